package dev.lineserver.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The send queue on its own: how many buffers the I/O thread gets to write for many small sends.
 */
final class OutboxSegmentsTest {
  private static final byte[] ACK = "ACK\n".getBytes(StandardCharsets.US_ASCII);
  private static final int SENDS = 2000;

  @Test
  void append_manySmallSends_fillSegmentsRatherThanOneBufferEach() {
    Outbox outbox = new Outbox(64 * 1024);
    ByteBuffer ack = ByteBuffer.wrap(ACK);
    for (int i = 0; i < SENDS; i++) {
      assertThat(outbox.append(ack, 0, ACK.length)).isIn(Outbox.QUEUED, Outbox.QUEUED_WAKE);
    }

    ByteArrayOutputStream written = new ByteArrayOutputStream();
    int buffers = drain(outbox, written);

    assertThat(written.toString(StandardCharsets.US_ASCII)).isEqualTo("ACK\n".repeat(SENDS));
    // 8000 bytes: a first buffer sized to the send (512) and the rest in 8 KiB segments, so the
    // I/O thread writes 2 buffers; one buffer per 4-byte send would be one write(2) per ACK.
    assertThat(buffers).isLessThanOrEqualTo(SENDS * ACK.length / Outbox.SEGMENT + 2);
  }

  @Test
  void appendAscii_manySmallLines_fillSegmentsRatherThanOneBufferEach() {
    Outbox outbox = new Outbox(64 * 1024);
    for (int i = 0; i < SENDS; i++) {
      assertThat(outbox.appendAscii("ACK", (byte) '\n', true))
          .isIn(Outbox.QUEUED, Outbox.QUEUED_WAKE);
    }

    ByteArrayOutputStream written = new ByteArrayOutputStream();
    int buffers = drain(outbox, written);

    assertThat(written.toString(StandardCharsets.US_ASCII)).isEqualTo("ACK\n".repeat(SENDS));
    assertThat(buffers).isLessThanOrEqualTo(SENDS * ACK.length / Outbox.SEGMENT + 2);
  }

  /** Takes everything as the I/O thread would, a whole buffer per write; returns the buffers. */
  private static int drain(Outbox outbox, ByteArrayOutputStream written) {
    int buffers = 0;
    for (int round = 0; round <= SENDS * ACK.length; round++) {
      ByteBuffer next = outbox.next();
      if (!next.hasRemaining()) {
        assertThat(outbox.size()).isZero();
        return buffers;
      }
      byte[] bytes = new byte[next.remaining()];
      next.get(bytes);
      written.write(bytes, 0, bytes.length);
      buffers++;
    }
    throw new AssertionError("the outbox never ran empty");
  }
}
