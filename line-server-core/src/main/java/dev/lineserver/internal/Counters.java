package dev.lineserver.internal;

import dev.lineserver.CloseReason;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counters written by one thread (an I/O loop or the acceptor) and read by any: the writer adds
 * with a plain read and a release store, no atomic read-modify-write on the hot path. The counters
 * that sink tasks on other threads also write (failures, restart limits, dropped lines, and lines
 * when a sink executor delivers them) are added to atomically everywhere.
 */
public final class Counters {
  public static final int ACCEPTED = 0;
  public static final int REFUSED = 1;
  public static final int BYTES = 2;
  public static final int LINES = 3;
  public static final int TOO_LONG = 4;
  public static final int SINK_FAILURES = 5;
  public static final int RESTART_LIMITS = 6;
  public static final int READS_PAUSED = 7;
  public static final int LINES_DROPPED = 8;
  public static final int PARTIAL_LINES_DROPPED = 9;
  private static final int CLOSED = 10;
  private static final int SIZE = CLOSED + CloseReason.values().length;

  private final AtomicLongArray values = new AtomicLongArray(SIZE);

  /** Adds {@code delta}; only from the owning thread. */
  void add(int counter, long delta) {
    values.lazySet(counter, values.get(counter) + delta);
  }

  /** Adds {@code delta} atomically; from any thread, for counters several threads write. */
  void addShared(int counter, long delta) {
    values.getAndAdd(counter, delta);
  }

  /** How many counters precede the close reasons' slots. */
  public static int count() {
    return CLOSED;
  }

  /** Counts a closed connection; atomically, since a sink task may count it (rare, not hot). */
  void closed(CloseReason reason) {
    addShared(closedIndex(reason), 1);
  }

  public long get(int counter) {
    return values.get(counter);
  }

  public long closedCount(CloseReason reason) {
    return values.get(closedIndex(reason));
  }

  // One slot per close reason in the flat array, in the enum's order; both are this library's own.
  @SuppressWarnings("EnumOrdinal")
  private static int closedIndex(CloseReason reason) {
    return CLOSED + reason.ordinal();
  }
}
