package dev.lineserver.internal;

import java.lang.System.Logger.Level;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * A server's TLS threads ({@code line-server-tls-N}, at most the number asked for, started as
 * needed): they run the engines' delegated tasks, the handshakes' costly part, so that no I/O
 * thread waits for one, and hand each outcome back to its connection's I/O thread. Any thread may
 * submit; the queue holds at most one job per connection in its handshake. {@link #shutdown} ends
 * them all.
 */
final class TlsTasks {
  /** Receives, on the connection's I/O thread, what a job's tasks threw, or null. */
  interface Outcome {
    void ran(@Nullable Throwable failure);
  }

  private final ThreadPoolExecutor pool;
  private final List<Thread> threads = new CopyOnWriteArrayList<>();
  private final AtomicInteger created = new AtomicInteger();

  private final String namePrefix;

  /**
   * A pool of at most {@code threads} threads, none started yet, named {@code line-server-tls-N}.
   */
  TlsTasks(int threads) {
    this(threads, "line-server-");
  }

  /**
   * A pool of at most {@code threads} threads, none started yet, named {@code prefix + "tls-N"}.
   */
  TlsTasks(int threads, String prefix) {
    this.namePrefix = prefix + "tls-";
    this.pool =
        new ThreadPoolExecutor(
            threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), this::thread);
  }

  /** The default size: half the available processors, at least one. */
  static int defaultThreads() {
    return Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
  }

  private Thread thread(Runnable worker) {
    Thread thread = new Thread(worker, namePrefix + created.incrementAndGet());
    thread.setDaemon(false);
    threads.add(thread);
    return thread;
  }

  /**
   * Runs {@code tasks} on one of the pool's threads, then {@code outcome} through {@code ioThread}.
   * After {@link #shutdown}, the outcome is the rejection.
   */
  void run(Runnable tasks, Executor ioThread, Outcome outcome) {
    try {
      pool.execute(
          () -> {
            Throwable failure = null;
            try {
              tasks.run();
            } catch (RuntimeException | Error e) {
              failure = e;
            }
            Throwable thrown = failure;
            ioThread.execute(() -> outcome.ran(thrown));
          });
    } catch (RejectedExecutionException e) {
      ioThread.execute(() -> outcome.ran(e));
    }
  }

  /** Whether {@code thread} is one of the pool's. */
  boolean isOwnThread(Thread thread) {
    return threads.contains(thread);
  }

  /**
   * Drops the jobs not begun, interrupts the running ones (their handshakes are over: the I/O
   * threads have ended) and waits until every thread has ended or {@code deadlineNanos}, then
   * warns.
   */
  void shutdown(long deadlineNanos) {
    pool.shutdownNow();
    try {
      long left = deadlineNanos - System.nanoTime();
      if (!pool.awaitTermination(Math.max(1, left), TimeUnit.NANOSECONDS)) {
        Events.LOGGER.log(
            Level.WARNING,
            () -> "TLS threads did not end after close(); is a key or trust manager stuck?");
        return;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    for (Thread thread : threads) {
      try {
        thread.join(); // ended its work: awaitTermination has returned
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
