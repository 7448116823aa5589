package dev.lineserver.benchmarks.load;

import java.util.Locale;

/** The servers the load benchmark compares, by their command-line names. */
enum ServerKind {
  LINE_STRING("linestring", "line-server, String sink", true),
  LINE_BYTES("linebytes", "line-server, byte sink (Line view)", true),
  NETTY_NIO("netty-nio", "Netty NIO, LineBasedFrameDecoder + toString(UTF_8)", true),
  NETTY_EPOLL("netty-epoll", "Netty native epoll, same pipeline", true),
  BLOCKING("blocking", "BufferedReader.readLine, platform thread per connection", false),
  VIRTUAL("virtual", "BufferedReader.readLine, virtual thread per connection", false),
  RAW("raw", "raw NIO read-and-discard: bytes read ÷ line length (loopback bound)", true);

  final String id;
  final String description;

  /** Whether the server has an I/O thread count to set; thread-per-connection servers have none. */
  final boolean ioThreadsKnob;

  ServerKind(String id, String description, boolean ioThreadsKnob) {
    this.id = id;
    this.description = description;
    this.ioThreadsKnob = ioThreadsKnob;
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
