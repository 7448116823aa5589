package dev.lineserver.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * The framing contract, the slow and obvious way: split a whole stream at once, for tests to
 * compare {@link LineBuffer} against. Lines are rendered by the caller; too-long ones as {@code
 * TOO_LONG(length)}.
 */
final class ReferenceSplitter {
  /** Renders {@code length} bytes of {@code stream} from {@code start} as one line event. */
  @FunctionalInterface
  interface LineRenderer {
    String render(byte[] stream, int start, int length);
  }

  private ReferenceSplitter() {}

  static List<String> split(byte[] stream, int maxLineLength, LineRenderer renderer) {
    List<String> events = new ArrayList<>();
    int start = 0;
    for (int i = 0; i <= stream.length; i++) {
      boolean eof = i == stream.length;
      if (!eof && stream[i] != '\n') {
        continue;
      }
      int end = i;
      if (eof && start == end) {
        break;
      }
      if (!eof && end > start && stream[end - 1] == '\r') {
        end--;
      }
      int length = end - start;
      events.add(
          length > maxLineLength
              ? "TOO_LONG(" + length + ")"
              : renderer.render(stream, start, length));
      start = i + 1;
    }
    return events;
  }
}
