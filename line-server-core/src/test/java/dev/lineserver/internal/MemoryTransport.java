package dev.lineserver.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.function.IntSupplier;

/**
 * A {@link Transport} in memory, for connection tests without sockets: reads return the chunks
 * {@link #send} queued (then 0, or -1 after {@link #end}); writes are kept in {@link #written},
 * each taking at most what {@link #writeCapacity} says (0: the socket is full); interest and close
 * are recorded, and a write after the close is refused and recorded.
 */
final class MemoryTransport implements Transport {
  private final Queue<byte[]> input = new ArrayDeque<>();
  private boolean ended;
  final ByteArrayOutputStream written = new ByteArrayOutputStream();
  boolean reading = true;
  boolean writing;
  boolean closed;
  boolean outputShut;
  IntSupplier writeCapacity = () -> Integer.MAX_VALUE;
  int writeInterestTurnedOn;
  boolean writtenAfterClose;

  void send(String text) {
    input.add(text.getBytes(StandardCharsets.ISO_8859_1));
  }

  /** The peer's end of stream, after what was sent. */
  void end() {
    ended = true;
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    if (closed) {
      throw new IOException("closed");
    }
    byte[] chunk = input.poll();
    if (chunk == null) {
      return ended ? -1 : 0;
    }
    dst.put(chunk);
    return chunk.length;
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    if (closed) {
      writtenAfterClose = true;
      throw new IOException("closed");
    }
    int n = Math.min(src.remaining(), writeCapacity.getAsInt());
    for (int i = 0; i < n; i++) {
      written.write(src.get());
    }
    return n;
  }

  @Override
  public void readInterest(boolean on) {
    reading = on;
  }

  @Override
  public void writeInterest(boolean on) {
    if (on && !writing) {
      writeInterestTurnedOn++;
    }
    writing = on;
  }

  @Override
  public void shutdownOutput() {
    outputShut = true;
  }

  @Override
  public void close() {
    closed = true;
  }
}
