package dev.lineserver;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/** The one logger of the library, how it names a connection, and a rate limit for floods. */
final class Log {
  static final Logger LOGGER = System.getLogger("dev.lineserver");
  static final RateLimited REFUSALS = new RateLimited(TimeUnit.SECONDS.toNanos(1));
  static final RateLimited HANDSHAKES = new RateLimited(TimeUnit.SECONDS.toNanos(1));
  static final RateLimited SINK_FAILURES = new RateLimited(TimeUnit.SECONDS.toNanos(1));

  private Log() {}

  static String describe(ConnectionInfo connection) {
    SocketAddress proxy = connection.proxyAddress();
    return "connection #"
        + connection.id()
        + " from "
        + connection.remoteAddress()
        + (proxy == null ? "" : " via " + proxy);
  }

  /**
   * Logs at WARNING at most once per interval, then says how many it left out. Thread-safe: a lost
   * race only drops one more message into the count.
   */
  static final class RateLimited {
    private final long intervalNanos;
    private final AtomicLong next = new AtomicLong(System.nanoTime());
    private final AtomicLong suppressed = new AtomicLong();

    RateLimited(long intervalNanos) {
      this.intervalNanos = intervalNanos;
    }

    void warn(Supplier<String> message) {
      String text = due(message);
      if (text != null) {
        LOGGER.log(Level.WARNING, text);
      }
    }

    /** As {@link #warn(Supplier)}, with {@code error}'s stack trace. */
    void warn(Supplier<String> message, Throwable error) {
      String text = due(message);
      if (text != null) {
        LOGGER.log(Level.WARNING, text, error);
      }
    }

    /** The message to log now, with the count left out since the last, or null if not due. */
    private @Nullable String due(Supplier<String> message) {
      long now = System.nanoTime();
      long due = next.get();
      if (now - due < 0 || !next.compareAndSet(due, now + intervalNanos)) {
        suppressed.incrementAndGet();
        return null;
      }
      long left = suppressed.getAndSet(0);
      return message.get() + (left == 0 ? "" : " (" + left + " more since the last report)");
    }
  }
}
