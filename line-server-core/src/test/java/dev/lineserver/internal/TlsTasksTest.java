package dev.lineserver.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class TlsTasksTest {
  private static final long TIMEOUT_SECONDS = 10;

  /** Stands in for an I/O thread: queues each outcome, with the thread the task ran on. */
  private final BlockingQueue<Optional<Throwable>> outcomes = new LinkedBlockingQueue<>();

  private final List<String> ioThreadCalls = new ArrayList<>();
  private final Executor ioThread =
      task -> {
        synchronized (ioThreadCalls) {
          ioThreadCalls.add(Thread.currentThread().getName());
        }
        task.run();
      };
  private final TlsTasks.Outcome outcome = failure -> outcomes.add(Optional.ofNullable(failure));
  private final List<TlsTasks> pools = new ArrayList<>();

  @AfterEach
  void everyThreadEnds() {
    for (TlsTasks pool : pools) {
      pool.shutdown(System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS));
    }
    assertThat(tlsThreads()).as("live TLS threads").isEmpty();
  }

  private TlsTasks pool(int threads) {
    TlsTasks pool = new TlsTasks(threads);
    pools.add(pool);
    return pool;
  }

  @Test
  void run_tasks_runOnANamedPoolThread_thenTheOutcomeThroughTheIoThread() throws Exception {
    TlsTasks pool = pool(1);
    BlockingQueue<String> ranOn = new LinkedBlockingQueue<>();

    pool.run(() -> ranOn.add(Thread.currentThread().getName()), ioThread, outcome);

    assertThat(ranOn.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isEqualTo("line-server-tls-1");
    assertThat(outcomes.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isEmpty();
    synchronized (ioThreadCalls) {
      assertThat(ioThreadCalls).containsExactly("line-server-tls-1");
    }
  }

  @Test
  void run_aTaskThatThrows_reportsItsFailure_andTheThreadGoesOn() throws Exception {
    TlsTasks pool = pool(1);
    AssertionError thrown = new AssertionError("a key manager failed");

    pool.run(
        () -> {
          throw thrown;
        },
        ioThread,
        outcome);
    pool.run(() -> {}, ioThread, outcome);

    assertThat(outcomes.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS)).contains(thrown);
    assertThat(outcomes.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isEmpty();
    assertThat(tlsThreads()).containsExactly("line-server-tls-1");
  }

  @Test
  void run_manyAtOnce_usesNoMoreThreadsThanAsked() throws Exception {
    TlsTasks pool = pool(2);
    CountDownLatch release = new CountDownLatch(1);
    for (int i = 0; i < 10; i++) {
      pool.run(() -> await(release), ioThread, outcome);
    }

    assertThat(tlsThreads()).containsExactlyInAnyOrder("line-server-tls-1", "line-server-tls-2");
    release.countDown();
    for (int i = 0; i < 10; i++) {
      assertThat(outcomes.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isEmpty();
    }
  }

  @Test
  void shutdown_dropsWaitingJobs_interruptsTheRunning_andEndsEveryThread() throws Exception {
    TlsTasks pool = pool(1);
    CountDownLatch entered = new CountDownLatch(1);
    AtomicInteger begun = new AtomicInteger();
    Runnable blocking =
        () -> {
          begun.incrementAndGet();
          entered.countDown();
          await(new CountDownLatch(1));
        };
    for (int i = 0; i < 3; i++) {
      pool.run(blocking, ioThread, outcome);
    }
    assertThat(entered.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();

    pool.shutdown(System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS));

    assertThat(tlsThreads()).isEmpty();
    assertThat(begun).hasValue(1);
    assertThat(outcomes.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS))
        .hasValueSatisfying(e -> assertThat(e).hasMessage("interrupted"));
    assertThat(outcomes).isEmpty();
  }

  @Test
  void run_afterShutdown_reportsTheRejection() throws Exception {
    TlsTasks pool = pool(1);
    pool.shutdown(System.nanoTime());

    pool.run(() -> {}, ioThread, outcome);

    assertThat(outcomes.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS))
        .hasValueSatisfying(e -> assertThat(e).isInstanceOf(RejectedExecutionException.class));
  }

  @Test
  void isOwnThread_onlyForThePoolsThreads() throws Exception {
    TlsTasks pool = pool(1);
    BlockingQueue<Boolean> own = new LinkedBlockingQueue<>();

    pool.run(() -> own.add(pool.isOwnThread(Thread.currentThread())), ioThread, outcome);

    assertThat(own.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
    assertThat(pool.isOwnThread(Thread.currentThread())).isFalse();
  }

  private static List<String> tlsThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(name -> name.startsWith("line-server-tls-"))
        .sorted()
        .toList();
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(3 * TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        throw new IllegalStateException("not released in time");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
