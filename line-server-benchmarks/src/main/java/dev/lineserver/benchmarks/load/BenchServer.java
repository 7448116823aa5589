package dev.lineserver.benchmarks.load;

import java.io.IOException;

/** One server under test, bound to a free loopback port, counting lines into a {@link Meter}. */
interface BenchServer extends AutoCloseable {

  int port();

  /** Direct memory the server allocates outside the JDK's buffer pools (Netty's own counter). */
  default long extraDirectBytes() {
    return 0;
  }

  @Override
  void close() throws IOException;
}
