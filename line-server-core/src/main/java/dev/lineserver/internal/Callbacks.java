package dev.lineserver.internal;

import org.jspecify.annotations.Nullable;

/**
 * Marks a thread while it runs a server's work: for good on the server's acceptor and I/O threads,
 * and while it runs a server's sink or listener on a sink executor, so that {@code close()} called
 * from there starts the shutdown instead of waiting for itself, and the listener's defaults log for
 * that server. The mark is the server's {@link Reports}, one per server.
 */
final class Callbacks {
  private static final ThreadLocal<@Nullable Object> SERVER = new ThreadLocal<>();

  private Callbacks() {}

  static @Nullable Object enter(Object server) {
    @Nullable Object previous = SERVER.get();
    SERVER.set(server);
    return previous;
  }

  static void exit(@Nullable Object previous) {
    if (previous == null) {
      SERVER.remove();
    } else {
      SERVER.set(previous);
    }
  }

  /** The mark of the server this thread works for now, or null. */
  static @Nullable Object current() {
    return SERVER.get();
  }

  /** True while this thread runs a callback of the server that {@code server} marks. */
  static boolean isInside(Object server) {
    return SERVER.get() == server;
  }
}
