package dev.lineserver.internal;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes of lines read but not yet through the sink, across a server, for the executor mode. I/O
 * threads add as they queue lines and pause reading once the budget is spent; sink tasks release as
 * lines finish, and the release that brings the total back under half the budget wakes every I/O
 * loop to resume its paused connections. Also counts the connections whose queued lines are not yet
 * all through, so that closing the server can wait for them.
 */
public final class Budget {
  private final long limit;
  private final AtomicLong pending = new AtomicLong();
  private final CopyOnWriteArrayList<IoLoop> loops = new CopyOnWriteArrayList<>();
  private int queues;

  public Budget(long limit) {
    this.limit = limit;
  }

  void attach(IoLoop loop) {
    loops.add(loop);
  }

  void acquire(long bytes) {
    pending.addAndGet(bytes);
  }

  /** True once the pending bytes reach the limit: the reading connection should pause. */
  boolean isSpent() {
    return pending.get() >= limit;
  }

  void release(long bytes) {
    long after = pending.addAndGet(-bytes);
    long before = after + bytes;
    if (before > limit / 2 && after <= limit / 2) {
      for (IoLoop loop : loops) {
        loop.resumePaused();
      }
    }
  }

  public long pending() {
    return pending.get();
  }

  /** A connection's queue started: {@link #awaitQueues} waits for its end. */
  void queueStarted() {
    synchronized (this) {
      queues++;
    }
  }

  /** A connection's queue delivered its last line after the connection closed. */
  void queueDone() {
    synchronized (this) {
      if (--queues == 0) {
        notifyAll();
      }
    }
  }

  /** Waits until every started queue is done or {@code deadlineNanos} passes; true if all are. */
  public boolean awaitQueues(long deadlineNanos) throws InterruptedException {
    synchronized (this) {
      while (queues > 0) {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
      return true;
    }
  }
}
