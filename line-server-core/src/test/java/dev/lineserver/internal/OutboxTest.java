package dev.lineserver.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The send queue alone: order, the bound, the wake requests and the drop. */
final class OutboxTest {

  private static int append(Outbox box, String text) {
    byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
    return box.append(ByteBuffer.wrap(bytes), 0, bytes.length);
  }

  /** Everything the I/O thread would write, taking at most {@code perWrite} bytes a write. */
  private static String drain(Outbox box, int perWrite) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (ByteBuffer next = box.next(); next.hasRemaining(); next = box.next()) {
      int n = Math.min(perWrite, next.remaining());
      for (int i = 0; i < n; i++) {
        out.write(next.get());
      }
    }
    return out.toString(StandardCharsets.ISO_8859_1);
  }

  @Test
  void append_smallAndLargeSends_writtenInOrder_acrossBuffers() {
    Outbox box = new Outbox(1 << 20);
    StringBuilder expected = new StringBuilder();
    String large = "x".repeat(3 * Outbox.SEGMENT + 17);
    for (String text : new String[] {"a", "bc", large, "", "d\n", large}) {
      append(box, text);
      expected.append(text);
    }

    assertThat(drain(box, 1000)).isEqualTo(expected.toString());
    assertThat(box.size()).isZero();
    assertThat(box.isEmpty()).isTrue();
  }

  @Test
  void append_randomSendsAndWrites_sameBytesInOrder() {
    long seed = System.nanoTime();
    SplittableRandom random = new SplittableRandom(seed);
    Outbox box = new Outbox(64 * 1024);
    StringBuilder sent = new StringBuilder();
    StringBuilder written = new StringBuilder();
    for (int round = 0; round < 2000; round++) {
      String text = "r" + round + "-".repeat(random.nextInt(random.nextBoolean() ? 20 : 20_000));
      if (append(box, text) <= Outbox.QUEUED_WAKE) {
        sent.append(text);
      }
      if (random.nextInt(3) == 0) {
        ByteBuffer next = box.next();
        int n = Math.min(next.remaining(), random.nextInt(10_000));
        for (int i = 0; i < n; i++) {
          written.append((char) next.get());
        }
      }
      assertThat(box.size()).as("seed %d", seed).isBetween(0, 64 * 1024);
    }
    written.append(drain(box, Integer.MAX_VALUE));
    assertThat(written.toString()).as("seed %d", seed).isEqualTo(sent.toString());
  }

  @Test
  void append_pastTheBound_fullFirstOnce_nothingQueued_untilTheQueueIsTaken() {
    Outbox box = new Outbox(10);
    assertThat(append(box, "12345678")).isEqualTo(Outbox.QUEUED_WAKE);

    assertThat(append(box, "abc")).isEqualTo(Outbox.FULL_FIRST);
    assertThat(append(box, "abc")).isEqualTo(Outbox.FULL);
    assertThat(append(box, "90")).isEqualTo(Outbox.QUEUED); // exactly up to the bound
    assertThat(append(box, "x")).isEqualTo(Outbox.FULL);
    assertThat(box.size()).isEqualTo(10);

    assertThat(drain(box, 3)).isEqualTo("1234567890");
    assertThat(append(box, "abc")).isEqualTo(Outbox.QUEUED_WAKE);
    assertThat(append(box, "abcdefgh")).isEqualTo(Outbox.FULL_FIRST); // a new episode
  }

  @Test
  void append_wakesOnce_untilTheIoThreadTakesWhatIsPending() {
    Outbox box = new Outbox(1000);
    assertThat(append(box, "a")).isEqualTo(Outbox.QUEUED_WAKE);
    assertThat(append(box, "b")).isEqualTo(Outbox.QUEUED);
    assertThat(append(box, "")).isEqualTo(Outbox.QUEUED);

    ByteBuffer taken = box.next();
    assertThat(taken.remaining()).isEqualTo(2);
    // Taken and not yet written: the next send asks for a flush again.
    assertThat(append(box, "c")).isEqualTo(Outbox.QUEUED_WAKE);
    assertThat(box.size()).isEqualTo(3);
  }

  @Test
  void appendAscii_withTheDelimiter_oneSend() {
    Outbox box = new Outbox(4);
    assertThat(box.appendAscii("abc", (byte) '\n', true)).isEqualTo(Outbox.QUEUED_WAKE);
    assertThat(box.appendAscii("", (byte) '\n', true)).isEqualTo(Outbox.FULL_FIRST);
    assertThat(drain(box, 2)).isEqualTo("abc\n");
  }

  @Test
  void sealed_refusesEverySend() {
    Outbox box = new Outbox(100);
    append(box, "kept");
    box.seal();
    assertThat(append(box, "late")).isEqualTo(Outbox.SEALED);
    assertThat(box.appendAscii("late", (byte) '\n', false)).isEqualTo(Outbox.SEALED);
    assertThat(drain(box, 100)).isEqualTo("kept"); // what was queued before is still written
  }

  @Test
  void drop_countsWhatWasNotWritten_partlyWrittenIncluded_andSeals() {
    Outbox box = new Outbox(100_000);
    append(box, "x".repeat(20_000));
    ByteBuffer next = box.next();
    next.position(next.position() + 100);
    append(box, "tail");

    assertThat(box.drop()).isEqualTo(20_000 - 100 + 4);
    assertThat(box.size()).isZero();
    assertThat(box.isEmpty()).isTrue();
    assertThat(box.next().hasRemaining()).isFalse();
    assertThat(append(box, "late")).isEqualTo(Outbox.SEALED);
  }
}
