package dev.lineserver.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes {@link LineBuffer} against the reference splitter of {@code LineBufferTest}: any stream,
 * any chunking, any {@code maxLineLength} in 1..64, with restarts after delivered lines.
 *
 * <p>A plain {@code mvn verify} runs only the stored inputs in {@code
 * src/test/resources/dev/lineserver/internal/LineBufferFuzzTestInputs/<method>/} (regression mode).
 * To fuzz: {@code JAZZER_FUZZ=1 ./mvnw -pl line-server-core test -Dtest=LineBufferFuzzTest
 * -Dspotless.check.skip}; a failing input is written to that directory, keep it there.
 *
 * <p>The input, as {@link FuzzedDataProvider} consumes it from the end: {@code maxLineLength}
 * (1..64), a filler byte, a release flag, a 32-bit restart mask, a padding width (0..7), the chunk
 * count (0..32) and each chunk size (0..255); the remaining bytes, from the start, are the stream.
 */
final class LineBufferFuzzTest {

  private static final int MAX_CHUNKS = 32;

  /**
   * Outside fuzzing, turns off Jazzer's hooks (its bug detectors and comparison tracing): nothing
   * here calls what they guard, and installing them takes seconds and instruments the JVM that the
   * other tests share. Fuzzing needs them for coverage feedback. An explicit setting wins.
   */
  @BeforeAll
  static void skipHooksUnlessFuzzing() {
    String fuzz = System.getenv("JAZZER_FUZZ");
    if ((fuzz == null || fuzz.isEmpty()) && System.getProperty("jazzer.hooks") == null) {
      System.setProperty("jazzer.hooks", "false");
    }
  }

  /**
   * Feeds the stream through one buffer chunk by chunk, as the I/O thread does: each chunk sits in
   * a read buffer between filler bytes and the buffer is overwritten once consumed; after the
   * {@code i}-th line with bit {@code i} set in the restart mask the buffer is replaced by {@code
   * restart(false)}, as after a sink failure. The remainder after the listed chunks is one chunk.
   */
  @FuzzTest(maxDuration = "2m")
  void split_anyStreamAndChunking_matchesTheReference(FuzzedDataProvider data) {
    int maxLineLength = data.consumeInt(1, 64);
    byte filler = data.consumeByte();
    boolean releaseWhenIdle = data.consumeBoolean();
    int restartMask = data.consumeInt();
    int padding = data.consumeInt(0, 7);
    int[] chunkSizes = new int[data.consumeInt(0, MAX_CHUNKS)];
    for (int i = 0; i < chunkSizes.length; i++) {
      chunkSizes[i] = data.consumeInt(0, 255);
    }
    byte[] stream = data.consumeRemainingAsBytes();

    LineBuffer buffer = new LineBuffer(maxLineLength);
    List<String> events = new ArrayList<>();
    int lines = 0;
    int at = 0;
    for (int chunk = 0; chunk <= chunkSizes.length; chunk++) {
      int remaining = stream.length - at;
      int length = chunk < chunkSizes.length ? Math.min(chunkSizes[chunk], remaining) : remaining;
      // A direct buffer, as the server reads into, with filler around the chunk.
      byte[] padded = new byte[padding + length + padding];
      Arrays.fill(padded, filler);
      System.arraycopy(stream, at, padded, padding, length);
      at += length;
      ByteBuffer readBuffer = ByteBuffer.allocateDirect(padded.length).put(padded);
      readBuffer.limit(padding + length).position(padding);

      buffer.feed(readBuffer);
      for (int event = buffer.next(); event != LineBuffer.NONE; event = buffer.next()) {
        checkBuffered(buffer, maxLineLength);
        events.add(describe(buffer, event));
        if (event == LineBuffer.LINE) {
          if (lines < Integer.SIZE && (restartMask >>> lines & 1) != 0) {
            buffer = buffer.restart(false);
          }
          lines++;
        }
      }
      checkBuffered(buffer, maxLineLength);
      assertThat(buffer.hasPartialLine())
          .as("hasPartialLine() after %d bytes", at)
          .isEqualTo(at > 0 && stream[at - 1] != '\n');
      readBuffer.clear();
      for (int i = 0; i < readBuffer.capacity(); i++) {
        readBuffer.put(i, filler);
      }
      if (releaseWhenIdle) {
        buffer.releaseIfEmpty();
      }
    }
    int event = buffer.finish();
    checkBuffered(buffer, maxLineLength);
    if (event != LineBuffer.NONE) {
      events.add(describe(buffer, event));
    }
    assertThat(buffer.hasPartialLine()).as("hasPartialLine() after finish()").isFalse();

    assertThat(events)
        .as(
            () ->
                String.format(
                    "maxLineLength %d, chunks %s, filler %02x, padding %d, restart mask %08x,"
                        + " stream %s",
                    maxLineLength,
                    Arrays.toString(chunkSizes),
                    filler,
                    padding,
                    restartMask,
                    render(ByteBuffer.wrap(stream), 0, stream.length)))
        .isEqualTo(
            ReferenceSplitter.split(
                stream,
                maxLineLength,
                (bytes, start, length) ->
                    "LINE(" + render(ByteBuffer.wrap(bytes), start, length) + ")"));
  }

  private static void checkBuffered(LineBuffer buffer, int maxLineLength) {
    if (buffer.bufferedBytes() > maxLineLength + 1) {
      throw new AssertionError(
          "bufferedBytes() "
              + buffer.bufferedBytes()
              + " > maxLineLength + 1 = "
              + (maxLineLength + 1));
    }
  }

  private static String describe(LineBuffer buffer, int event) {
    if (event == LineBuffer.TOO_LONG) {
      return "TOO_LONG(" + buffer.tooLongLength() + ")";
    }
    assertThat(event).isEqualTo(LineBuffer.LINE);
    return "LINE(" + render(buffer.lineBytes(), buffer.lineStart(), buffer.lineLength()) + ")";
  }

  /** The bytes, exactly: printable ASCII as is, every other byte and the backslash as \xNN. */
  private static String render(ByteBuffer bytes, int start, int length) {
    StringBuilder s = new StringBuilder(length);
    for (int i = start; i < start + length; i++) {
      int b = bytes.get(i) & 0xFF;
      if (b >= 0x20 && b < 0x7F && b != '\\') {
        s.append((char) b);
      } else {
        s.append(String.format("\\x%02x", b));
      }
    }
    return s.toString();
  }
}
