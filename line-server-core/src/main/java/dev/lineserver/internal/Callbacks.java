package dev.lineserver.internal;

import org.jspecify.annotations.Nullable;

/**
 * Marks a thread while it runs a server's sink or listener on a sink executor, so that {@code
 * close()} called from there starts the shutdown instead of waiting for itself. The mark is the
 * server's {@link Budget}, one per server; the threads of the server itself are known by name.
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

  /** True while this thread runs a callback of the server that {@code server} marks. */
  static boolean isInside(Object server) {
    return SERVER.get() == server;
  }
}
