package dev.lineserver.internal;

/**
 * Counts one connection's restarts in the OTP sense: more than {@code maxRestarts} within {@code
 * periodNanos} is too many. Keeps the times of the last {@code maxRestarts + 1} restarts in a ring.
 * A connection creates it at its first failure, so one that never fails pays one null field. Used
 * by the connection's I/O thread only.
 */
final class RestartIntensity {
  private static final long[] NONE = {};

  private final int maxRestarts;
  private final long periodNanos;
  private long[] times = NONE;
  private int count;
  private int next;

  RestartIntensity(int maxRestarts, long periodNanos) {
    this.maxRestarts = maxRestarts;
    this.periodNanos = periodNanos;
  }

  /**
   * Records a restart at {@code nanoTime}; returns false if it makes too many within the period.
   */
  boolean allow(long nanoTime) {
    if (times.length == 0) {
      times = new long[maxRestarts + 1];
    }
    times[next] = nanoTime;
    next = (next + 1) % times.length;
    if (count < times.length) {
      count++;
    }
    // With the ring full, times[next] is the oldest of the last maxRestarts + 1 restarts.
    return count < times.length || nanoTime - times[next] >= periodNanos;
  }
}
