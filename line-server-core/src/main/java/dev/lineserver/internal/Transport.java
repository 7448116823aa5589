package dev.lineserver.internal;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Where a connection's bytes come from and go to: one socket, as its I/O loop serves it. The
 * connection reads when its loop says the socket is readable and writes what its stages have for
 * the peer; it turns read or write interest on and off, and closes. {@link NioTransport} is the one
 * implementation; a loop of another kind (epoll through the FFM API, say) brings its own. For the
 * connection's I/O thread, but {@link #close}, which any thread may call.
 */
interface Transport {
  /** Reads into {@code dst}: the bytes read, 0 if none wait, -1 at the peer's end of stream. */
  int read(ByteBuffer dst) throws IOException;

  /** Writes from {@code src} what the socket takes now: the bytes written, maybe 0. */
  int write(ByteBuffer src) throws IOException;

  /** Whether the loop should report the socket readable: off while reading is paused. */
  void readInterest(boolean on);

  /** Whether the loop should report the socket writable: on while bytes wait for the peer. */
  void writeInterest(boolean on);

  /** Shuts the socket's output: the peer reads its end of stream after the bytes written. */
  void shutdownOutput() throws IOException;

  /** Closes the socket and leaves the loop. Idempotent. */
  void close();
}
