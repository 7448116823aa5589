package dev.lineserver.internal;

import dev.lineserver.CloseReason;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counters written by one thread (an I/O loop or the acceptor) and read by any: the writer adds
 * with a plain read and a release store, no atomic read-modify-write on the hot path. The counters
 * that sink tasks on other threads also write (failures, restart limits, dropped lines, and lines
 * when a sink executor delivers them) are added to atomically everywhere. One flat array: a slot
 * per {@link Counter}, then one per {@link CloseReason}, both in their enum's order.
 */
final class Counters {
  private static final int CLOSED = Counter.values().length;
  private static final int SIZE = CLOSED + CloseReason.values().length;

  private final AtomicLongArray values = new AtomicLongArray(SIZE);

  /** Adds {@code delta}; only from the owning thread. */
  void add(Counter counter, long delta) {
    int slot = slot(counter);
    values.lazySet(slot, values.get(slot) + delta);
  }

  /** Adds {@code delta} atomically; from any thread, for counters several threads write. */
  void addShared(Counter counter, long delta) {
    values.getAndAdd(slot(counter), delta);
  }

  /** Counts a closed connection; atomically, since a sink task may count it (rare, not hot). */
  void closed(CloseReason reason) {
    values.getAndAdd(slot(reason), 1);
  }

  long get(Counter counter) {
    return values.get(slot(counter));
  }

  long closedCount(CloseReason reason) {
    return values.get(slot(reason));
  }

  /** Closed connections by reason; every reason is present. */
  Map<CloseReason, Long> closedCounts() {
    Map<CloseReason, Long> closed = new EnumMap<>(CloseReason.class);
    for (CloseReason reason : CloseReason.values()) {
      closed.put(reason, closedCount(reason));
    }
    return closed;
  }

  /** The sums of {@code all}, each counter read once; for the thread calling it alone. */
  static Counters sum(Counters... all) {
    Counters sum = new Counters();
    for (Counters counters : all) {
      for (int slot = 0; slot < SIZE; slot++) {
        sum.values.lazySet(slot, sum.values.get(slot) + counters.values.get(slot));
      }
    }
    return sum;
  }

  // A slot per constant in the flat array, in the enum's order; both enums are this library's own
  // and the slots never outlive the JVM, so a reordering cannot mix counters up.
  @SuppressWarnings("EnumOrdinal")
  private static int slot(Counter counter) {
    return counter.ordinal();
  }

  @SuppressWarnings("EnumOrdinal")
  private static int slot(CloseReason reason) {
    return CLOSED + reason.ordinal();
  }
}
