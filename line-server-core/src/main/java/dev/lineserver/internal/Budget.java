package dev.lineserver.internal;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The heap held by lines read but not yet through the sink, across a server, for the executor mode:
 * each queued chunk costs its bytes and its overhead ({@link SinkQueue#cost}). I/O threads add as
 * they queue lines, and pause reading once the budget is spent, before their next read; sink tasks
 * release as chunks finish, and the release that brings the total back under half the budget wakes
 * every I/O loop to resume its paused connections. Also holds the queues whose lines are not yet
 * all through, so that closing the server can wait for them, and drop them past its deadline, and
 * when the sink last made progress (a chunk through, or lines beginning to wait), for the health
 * check: one store per chunk, none per line.
 */
final class Budget {
  private final long limit;
  private final AtomicLong pending = new AtomicLong();
  private final AtomicLong progress = new AtomicLong(System.nanoTime());
  private final CopyOnWriteArrayList<Runnable> resumers = new CopyOnWriteArrayList<>();
  private static final long RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  private final Set<SinkQueue> queues = new LinkedHashSet<>(); // guarded by this

  Budget(long limit) {
    this.limit = limit;
  }

  /** {@code resumePaused} wakes one I/O loop to resume its paused connections, from any thread. */
  void attach(Runnable resumePaused) {
    resumers.add(resumePaused);
  }

  void acquire(long cost) {
    if (pending.get() == 0) {
      progress.setRelease(System.nanoTime()); // lines begin to wait; before they count as pending
    }
    pending.addAndGet(cost);
  }

  /** True once the pending bytes reach the limit: the reading connection should pause. */
  boolean isSpent() {
    return pending.get() >= limit;
  }

  void release(long cost) {
    progress.setRelease(System.nanoTime());
    long after = pending.addAndGet(-cost);
    long before = after + cost;
    if (before > limit / 2 && after <= limit / 2) {
      for (Runnable resumer : resumers) {
        resumer.run();
      }
    }
  }

  long pending() {
    return pending.get();
  }

  /** How long lines have waited with no chunk through, at {@code nowNanos}; 0 if none waits. */
  long waitingNanos(long nowNanos) {
    if (pending.get() == 0) {
      return 0; // read first: a stamp made before lines began to count is seen with them
    }
    return Math.max(0, nowNanos - progress.getAcquire());
  }

  /** A connection's queue started: {@link #awaitQueues} waits for its end. */
  synchronized void queueStarted(SinkQueue queue) {
    queues.add(queue);
  }

  /** A connection's queue delivered or dropped its last line after the connection closed. */
  synchronized void queueDone(SinkQueue queue) {
    if (queues.remove(queue) && queues.isEmpty()) {
      notifyAll();
    }
  }

  /**
   * Waits until every started queue is done or {@code deadlineNanos} passes, whatever the caller's
   * interrupt status (restored on return); true if all are done.
   */
  boolean awaitQueues(long deadlineNanos) {
    boolean interrupted = false;
    try {
      synchronized (this) {
        while (!queues.isEmpty()) {
          long left = deadlineNanos - System.nanoTime();
          if (left <= 0) {
            return false;
          }
          try {
            TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, RETRY_NANOS));
          } catch (InterruptedException e) {
            interrupted = true;
          }
          retryRefused(); // the I/O loops have ended: nobody else hands them over again
        }
        return true;
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Hands the queues the executor refused to it again; under this lock, as their waiter. */
  private void retryRefused() {
    for (SinkQueue queue : new ArrayList<>(queues)) {
      if (queue.isRefused()) {
        queue.retry();
      }
    }
  }

  /**
   * Past the deadline: every queue still open drops its lines (counted) and starts no more sink
   * calls; a call under way runs on. Returns how many lines were dropped, and adds the threads
   * still inside the sink to {@code stuck}.
   */
  long abandonQueues(List<Thread> stuck) {
    List<SinkQueue> open;
    synchronized (this) {
      open = new ArrayList<>(queues);
    }
    long dropped = 0;
    for (SinkQueue queue : open) {
      Thread runner = queue.runner();
      if (runner != null) {
        stuck.add(runner);
      }
      dropped += queue.abandon(true);
    }
    return dropped;
  }
}
