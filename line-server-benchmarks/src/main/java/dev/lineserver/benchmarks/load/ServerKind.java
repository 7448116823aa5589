package dev.lineserver.benchmarks.load;

import java.util.Locale;

/** The servers the load benchmark compares, by their command-line names. */
enum ServerKind {
  LINE_STRING("linestring", "line-server, String sink", true),
  LINE_BYTES("linebytes", "line-server, byte sink (Line view)", true),
  LINE_STRING_EXECUTOR(
      "linestring-exec",
      "line-server, String sink on a 2-thread sink executor (64 MiB budget)",
      true),
  NETTY_NIO("netty-nio", "Netty NIO, LineBasedFrameDecoder + toString(UTF_8)", true),
  NETTY_EPOLL("netty-epoll", "Netty native epoll, same pipeline", true),
  BLOCKING("blocking", "BufferedReader.readLine, platform thread per connection", false),
  VIRTUAL("virtual", "BufferedReader.readLine, virtual thread per connection", false),
  RAW("raw", "raw NIO read-and-discard: bytes read ÷ line length (loopback bound)", true),
  LINE_STRING_TLS("linestring-tls", "line-server, String sink, TLS (JDK provider)", true),
  NETTY_NIO_TLS(
      "netty-nio-tls", "Netty NIO, SslHandler (JDK provider) + LineBasedFrameDecoder", true);

  final String id;
  final String description;

  /** Whether the server has an I/O thread count to set; thread-per-connection servers have none. */
  final boolean ioThreadsKnob;

  ServerKind(String id, String description, boolean ioThreadsKnob) {
    this.id = id;
    this.description = description;
    this.ioThreadsKnob = ioThreadsKnob;
  }

  /** Whether the server speaks TLS: the client then sends over TLS, and plaintext kinds differ. */
  boolean tls() {
    return this == LINE_STRING_TLS || this == NETTY_NIO_TLS;
  }

  /**
   * Whether the server can answer every line with {@link Lines#ACK} (the load benchmark's {@code
   * --ack}): the plaintext line-server and Netty kinds; the ACK client speaks no TLS.
   */
  boolean acks() {
    return this == LINE_STRING
        || this == LINE_BYTES
        || this == LINE_STRING_EXECUTOR
        || this == NETTY_NIO
        || this == NETTY_EPOLL;
  }

  /** The server whose ratio the table reports: Netty NIO, with TLS for a TLS server. */
  ServerKind reference() {
    return tls() ? NETTY_NIO_TLS : NETTY_NIO;
  }

  static ServerKind parse(String id) {
    for (ServerKind kind : values()) {
      if (kind.id.equals(id.toLowerCase(Locale.ROOT))) {
        return kind;
      }
    }
    throw new IllegalArgumentException("server: " + id + " (expected one of " + ids() + ")");
  }

  static String ids() {
    StringBuilder ids = new StringBuilder();
    for (ServerKind kind : values()) {
      ids.append(ids.length() == 0 ? "" : ",").append(kind.id);
    }
    return ids.toString();
  }
}
