package dev.lineserver.internal;

import dev.lineserver.CloseReason;
import org.jspecify.annotations.Nullable;

/**
 * One connection's deadlines, in {@link System#nanoTime} terms: when it last received a byte, since
 * when it holds a partial line (or TLS record), and by when its handshakes must be through ({@link
 * #NONE} for none). Answers which deadline passed, as the {@link CloseReason} it closes with. While
 * the server holds the connection back, its clock stands still: between {@link #paused} and {@link
 * #resumed} the times are kept relative to the pause, and nothing else is asked. For the
 * connection's I/O thread alone.
 */
final class ConnectionClock {
  private static final long NONE = Long.MIN_VALUE;

  private final Settings.Timeouts timeouts;
  private long lastReadNanos;
  private long partialSinceNanos = NONE;
  private long handshakeDeadlineNanos = NONE;

  ConnectionClock(Settings.Timeouts timeouts, long now) {
    this.timeouts = timeouts;
    this.lastReadNanos = now;
  }

  /** A handshake (a PROXY header, TLS) began now: it has {@code handshakeTimeout} from here. */
  void handshakeStarted(long now) {
    handshakeDeadlineNanos = now + timeouts.handshakeNanos();
  }

  void handshakesDone() {
    handshakeDeadlineNanos = NONE;
  }

  /** Bytes arrived now. */
  void read(long now) {
    lastReadNanos = now;
  }

  /**
   * After a read: whether a partial line or record is held now, and whether it began in this read
   * (a line ended in it): else it dates from its first byte's read, as before.
   */
  void partial(boolean holds, boolean beganInThisRead) {
    if (!holds) {
      partialSinceNanos = NONE;
    } else if (beganInThisRead || partialSinceNanos == NONE) {
      partialSinceNanos = lastReadNanos;
    }
  }

  /** The server stopped reading the connection, for its sink: the times become relative. */
  void paused(long now) {
    shift(-now);
  }

  /**
   * Reading resumes: the peer was held back by us, so every deadline moves on by the time held, and
   * a sender that is held back again and again still runs out of time while it is read.
   */
  void resumed(long now) {
    shift(now);
  }

  private void shift(long by) {
    lastReadNanos += by;
    if (partialSinceNanos != NONE) {
      partialSinceNanos += by;
    }
    if (handshakeDeadlineNanos != NONE) {
      handshakeDeadlineNanos += by;
    }
  }

  /**
   * The deadline passed at {@code now}, if any: while a handshake is under way, only its own
   * ({@code HANDSHAKE_FAILED}); after, {@code IDLE_TIMEOUT}, else {@code LINE_TIMEOUT}; null if
   * none did. Idle and line timeouts of 0 are off.
   */
  @Nullable CloseReason expired(long now) {
    if (handshakeDeadlineNanos != NONE) {
      // A handshake under way has its own deadline: no line began, and its end must be reported.
      return now - handshakeDeadlineNanos >= 0 ? CloseReason.HANDSHAKE_FAILED : null;
    }
    long idle = timeouts.idleNanos();
    if (idle > 0 && now - lastReadNanos >= idle) {
      return CloseReason.IDLE_TIMEOUT;
    }
    long line = timeouts.lineNanos();
    if (line > 0 && partialSinceNanos != NONE && now - partialSinceNanos >= line) {
      return CloseReason.LINE_TIMEOUT;
    }
    return null;
  }

  /** While the server drains: nothing arrived for {@code quietNanos} since {@code since}. */
  boolean quietSince(long since, long now, long quietNanos) {
    return now - Math.max(since, lastReadNanos) >= quietNanos;
  }

  /** For reports: the timeout that {@code expired} meant by {@code HANDSHAKE_FAILED}. */
  long handshakeNanos() {
    return timeouts.handshakeNanos();
  }
}
