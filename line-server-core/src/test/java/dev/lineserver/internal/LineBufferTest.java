package dev.lineserver.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

final class LineBufferTest {

  /** Feeds {@code chunks} in order, then ends the stream; returns every event as text. */
  private static List<String> split(int maxLineLength, byte[]... chunks) {
    LineBuffer buffer = new LineBuffer(maxLineLength);
    List<String> events = new ArrayList<>();
    for (byte[] chunk : chunks) {
      buffer.feed(chunk, 0, chunk.length);
      drain(buffer, buffer.next(), events);
    }
    drainFinish(buffer, events);
    return events;
  }

  private static void drain(LineBuffer buffer, int event, List<String> events) {
    while (event != LineBuffer.NONE) {
      events.add(describe(buffer, event));
      event = buffer.next();
    }
  }

  private static void drainFinish(LineBuffer buffer, List<String> events) {
    int event = buffer.finish();
    if (event != LineBuffer.NONE) {
      events.add(describe(buffer, event));
    }
  }

  private static String describe(LineBuffer buffer, int event) {
    if (event == LineBuffer.TOO_LONG) {
      return "TOO_LONG(" + buffer.tooLongLength() + ")";
    }
    assertThat(event).isEqualTo(LineBuffer.LINE);
    byte[] line = new byte[buffer.lineLength()];
    buffer.lineBytes().get(buffer.lineStart(), line);
    return new String(line, UTF_8);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(UTF_8);
  }

  @Test
  void delimiter_otherThanLf_endsLinesAlone_crIsData() {
    LineBuffer buffer = new LineBuffer(100, (byte) 0);
    buffer.feed(bytes("a\r\0b\nc\0\0par"), 0, 11);
    List<String> events = new ArrayList<>();
    drain(buffer, buffer.next(), events);
    buffer.feed(bytes("tial\r"), 0, 5);
    drain(buffer, buffer.next(), events);
    drainFinish(buffer, events);
    assertThat(events).containsExactly("a\r", "b\nc", "", "partial\r");
  }

  @Test
  void split_lfTerminated_deliversEachLine() {
    assertThat(split(100, bytes("a\nb\n"))).containsExactly("a", "b");
  }

  @Test
  void split_crlfTerminated_stripsTheCr() {
    assertThat(split(100, bytes("a\r\nb\r\n"))).containsExactly("a", "b");
  }

  @Test
  void split_loneCr_isData() {
    assertThat(split(100, bytes("a\rb\n"))).containsExactly("a\rb");
  }

  @Test
  void split_onlyOneCrBeforeLfIsStripped() {
    assertThat(split(100, bytes("a\r\r\n"))).containsExactly("a\r");
  }

  @Test
  void split_emptyLines_areLines() {
    assertThat(split(100, bytes("\n\n"))).containsExactly("", "");
    assertThat(split(100, bytes("\r\n"))).containsExactly("");
  }

  @Test
  void finish_unterminatedTail_isDelivered() {
    assertThat(split(100, bytes("a\ntail"))).containsExactly("a", "tail");
  }

  @Test
  void finish_tailEndingInCr_keepsTheCrAsData() {
    assertThat(split(100, bytes("tail\r"))).containsExactly("tail\r");
  }

  @Test
  void finish_nothingBuffered_reportsNothing() {
    assertThat(split(100, bytes("a\n"))).containsExactly("a");
    assertThat(split(100)).isEmpty();
  }

  @Test
  void split_crlfAcrossChunks_stripsBoth() {
    assertThat(split(100, bytes("a\r"), bytes("\nb\r"), bytes("\n"))).containsExactly("a", "b");
  }

  @Test
  void split_multiByteCharacterAcrossChunks_decodesWhole() {
    byte[] line = bytes("é€😀\n");
    for (int cut = 0; cut <= line.length; cut++) {
      assertThat(
              split(
                  100,
                  Arrays.copyOfRange(line, 0, cut),
                  Arrays.copyOfRange(line, cut, line.length)))
          .as("cut at %d", cut)
          .containsExactly("é€😀");
    }
  }

  @Test
  void split_malformedUtf8_stillArrivesAsBytes() {
    byte[] input = {'a', (byte) 0xC3, (byte) 0x28, 'b', '\n'};
    assertThat(split(100, input)).containsExactly("a\uFFFD(b");
  }

  @Test
  void split_exactlyMaxLineLength_isAccepted() {
    assertThat(split(4, bytes("abcd\nabcd\r\n"))).containsExactly("abcd", "abcd");
    assertThat(split(4, bytes("ab"), bytes("cd\r"), bytes("\n"))).containsExactly("abcd");
  }

  @Test
  void split_oneByteOverMax_isTooLongAndNextLineArrives() {
    assertThat(split(4, bytes("abcde\nok\n"))).containsExactly("TOO_LONG(5)", "ok");
    assertThat(split(4, bytes("abcde\r\nok\n"))).containsExactly("TOO_LONG(5)", "ok");
    assertThat(split(4, bytes("abc"), bytes("de\nok\n"))).containsExactly("TOO_LONG(5)", "ok");
  }

  @Test
  void split_longLineAcrossManyChunks_isCountedNotBuffered() {
    LineBuffer buffer = new LineBuffer(10);
    List<String> events = new ArrayList<>();
    byte[] chunk = new byte[1000];
    Arrays.fill(chunk, (byte) 'x');
    for (int i = 0; i < 100; i++) {
      buffer.feed(chunk, 0, chunk.length);
      drain(buffer, buffer.next(), events);
      assertThat(buffer.bufferedBytes()).isLessThanOrEqualTo(11);
    }
    buffer.feed(bytes("\r\nnext\n"), 0, 7);
    drain(buffer, buffer.next(), events);
    assertThat(events).containsExactly("TOO_LONG(100000)", "next");
  }

  @Test
  void finish_tooLongTail_isReportedNotDelivered() {
    assertThat(split(3, bytes("abcdef"))).containsExactly("TOO_LONG(6)");
    assertThat(split(3, bytes("abcd"))).containsExactly("TOO_LONG(4)");
  }

  @Test
  void split_bufferNeverHoldsMoreThanMaxPlusOne() {
    LineBuffer buffer = new LineBuffer(5);
    buffer.feed(bytes("abcde\r"), 0, 6);
    assertThat(buffer.next()).isEqualTo(LineBuffer.NONE);
    assertThat(buffer.bufferedBytes()).isEqualTo(6);
    buffer.feed(bytes("x"), 0, 1);
    assertThat(buffer.next()).isEqualTo(LineBuffer.NONE);
    assertThat(buffer.bufferedBytes()).isZero();
  }

  @Test
  void split_lineInsideOneChunk_isAViewOfTheInput() {
    LineBuffer buffer = new LineBuffer(100);
    byte[] input = bytes("abc\n");
    buffer.feed(input, 0, input.length);
    assertThat(buffer.next()).isEqualTo(LineBuffer.LINE);
    assertThat(buffer.lineBytes().array()).isSameAs(input);
  }

  @Test
  void feed_withUnreadInput_throws() {
    LineBuffer buffer = new LineBuffer(100);
    buffer.feed(bytes("a\nb\n"), 0, 4);
    assertThat(buffer.next()).isEqualTo(LineBuffer.LINE);
    assertThatThrownBy(() -> buffer.feed(bytes("c\n"), 0, 2))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("feed: 2 bytes of the last input unread");
  }

  @Test
  void restart_afterSinkFailure_keepsTheUnreadLines() {
    LineBuffer buffer = new LineBuffer(100);
    buffer.feed(bytes("bad\ngood\npart"), 0, 13);
    assertThat(buffer.next()).isEqualTo(LineBuffer.LINE);
    LineBuffer fresh = buffer.restart(false);
    List<String> events = new ArrayList<>();
    drain(fresh, fresh.next(), events);
    fresh.feed(bytes("ial\n"), 0, 4);
    drain(fresh, fresh.next(), events);
    assertThat(events).containsExactly("good", "partial");
  }

  @Test
  void restart_withResync_dropsTheBrokenLineSilently() {
    LineBuffer buffer = new LineBuffer(100);
    buffer.feed(bytes("broken line\nnext\n"), 0, 17);
    LineBuffer fresh = buffer.restart(true);
    List<String> events = new ArrayList<>();
    drain(fresh, fresh.next(), events);
    drainFinish(fresh, events);
    assertThat(events).containsExactly("next");
  }

  @Test
  void restart_withResyncMidLine_skipsToTheNextLf() {
    LineBuffer buffer = new LineBuffer(100);
    buffer.feed(bytes("a\nbro"), 0, 5);
    assertThat(buffer.next()).isEqualTo(LineBuffer.LINE);
    // Pretend the buffer broke while reading "bro": the fresh one drops up to the next LF.
    LineBuffer fresh = buffer.restart(true);
    List<String> events = new ArrayList<>();
    drain(fresh, fresh.next(), events);
    fresh.feed(bytes("ken\nnext\n"), 0, 9);
    drain(fresh, fresh.next(), events);
    drainFinish(fresh, events);
    assertThat(events).containsExactly("next");
  }

  @Test
  void constructor_badMaxLineLength_namesValueAndRange() {
    assertThatThrownBy(() -> new LineBuffer(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxLineLength: 0 (expected: 1..2147483639)");
  }

  @Test
  void split_randomStreamsAndChunkings_matchTheReference() {
    long seed = 0x5EED_1234L;
    SplittableRandom random = new SplittableRandom(seed);
    // Weighted: mostly text, some LF and CR, some UTF-8 pieces and invalid bytes.
    byte[] alphabet = {
      'a',
      'b',
      'c',
      'd',
      'e',
      'f',
      ' ',
      ',',
      '1',
      '2',
      '3',
      '4',
      '\n',
      '\n',
      '\r',
      (byte) 0xC3,
      (byte) 0xA9,
      (byte) 0xE2,
      (byte) 0x82,
      (byte) 0xFF
    };
    for (int round = 0; round < 5_000; round++) {
      int maxLineLength = 1 + random.nextInt(20);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      int size = random.nextInt(200);
      for (int i = 0; i < size; i++) {
        out.write(alphabet[random.nextInt(alphabet.length)]);
      }
      byte[] stream = out.toByteArray();
      List<byte[]> chunks = new ArrayList<>();
      for (int at = 0; at < stream.length; ) {
        int length = Math.min(stream.length - at, random.nextInt(1, 30));
        chunks.add(Arrays.copyOfRange(stream, at, at + length));
        at += length;
      }
      assertThat(split(maxLineLength, chunks.toArray(new byte[0][])))
          .as("seed %d, round %d, max %d, stream %s", seed, round, maxLineLength, hex(stream))
          .isEqualTo(
              ReferenceSplitter.split(
                  stream,
                  maxLineLength,
                  (bytes, start, length) -> new String(bytes, start, length, UTF_8)));
    }
  }

  private static String hex(byte[] bytes) {
    StringBuilder s = new StringBuilder();
    for (byte b : bytes) {
      s.append(String.format("%02x", b));
    }
    return s.toString();
  }
}
