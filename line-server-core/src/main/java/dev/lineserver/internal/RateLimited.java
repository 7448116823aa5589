package dev.lineserver.internal;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * One kind of log message, written at most once per interval, each time saying how many it left out
 * since the last, so a flood of events never floods the log nor holds the thread that reports them.
 * Thread-safe: a lost race only drops one more message into the count.
 */
public final class RateLimited {
  private static final long ONE_SECOND = TimeUnit.SECONDS.toNanos(1);

  private final Logger logger;
  private final long intervalNanos;
  private final AtomicLong next = new AtomicLong(System.nanoTime());
  private final AtomicLong suppressed = new AtomicLong();

  /** A message of {@code logger} written at most once a second. */
  public RateLimited(Logger logger) {
    this(logger, ONE_SECOND);
  }

  RateLimited(Logger logger, long intervalNanos) {
    this.logger = logger;
    this.intervalNanos = intervalNanos;
  }

  public void log(Level level, Supplier<String> message) {
    String text = due(message);
    if (text != null) {
      logger.log(level, text);
    }
  }

  /** As {@link #log(Level, Supplier)}, with {@code error}'s stack trace. */
  public void log(Level level, Supplier<String> message, Throwable error) {
    String text = due(message);
    if (text != null) {
      logger.log(level, text, error);
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
