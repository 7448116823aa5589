package dev.lineserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;

import dev.lineserver.testing.Client;
import dev.lineserver.testing.Lines;
import dev.lineserver.testing.LogCapture;
import dev.lineserver.testing.Threads;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What {@code close()} promises, attacked: no line lost or cut while the sink stalls or the I/O
 * thread is busy, whatever the caller's interrupt flag, from inside a sink on an executor, and with
 * sinks that never return. Each test runs with the sink on the I/O thread and on an executor.
 */
final class ClosePromisesTest {
  private final ExecutorService executor = Executors.newFixedThreadPool(4);
  private final List<Thread> started = new ArrayList<>();

  @AfterEach
  void shutDown() throws InterruptedException {
    for (Thread thread : started) {
      thread.join(TimeUnit.SECONDS.toMillis(30));
      assertThat(thread.isAlive()).as(thread.getName()).isFalse();
    }
    executor.shutdownNow();
    assertThat(executor.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    await().atMost(Duration.ofSeconds(10)).untilAsserted(Threads::assertNoServerThreads);
  }

  private LineServer.Builder builder(boolean onExecutor) {
    LineServer.Builder builder =
        LineServer.builder().port(0).shutdownTimeout(Duration.ofSeconds(30));
    return onExecutor ? builder.sinkExecutor(executor).maxPendingBytes(1024) : builder;
  }

  /**
   * 20 senders each write 20 000 numbered lines and FIN while the sink stalls for a second on its
   * first line and close() runs: a connection held back (paused, or not read by a busy I/O thread)
   * is not quiet, so every line arrives once, in order, and every connection ends at its EOF.
   */
  @ParameterizedTest(name = "onExecutor={0}")
  @ValueSource(booleans = {false, true})
  void close_whileTheSinkStalls_losesNoLine_andEndsEachConnectionAtItsEof(boolean onExecutor)
      throws Exception {
    int senders = 20;
    int perSender = 20_000;
    AtomicBoolean stalled = new AtomicBoolean();
    CountDownLatch inStall = new CountDownLatch(1);
    Map<Integer, AtomicLong> next = new ConcurrentHashMap<>();
    List<String> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
    LineSink sink =
        line -> {
          if (stalled.compareAndSet(false, true)) {
            inStall.countDown();
            Thread.sleep(1_000); // the adversary: a sink that stalls once for a second
          }
          int comma = line.indexOf(',');
          int sender = Integer.parseInt(line.substring(0, comma));
          long expected = next.computeIfAbsent(sender, s -> new AtomicLong()).getAndIncrement();
          if (!line.equals(sender + "," + expected + ",xxxxxxxxxx")) {
            errors.add("sender " + sender + ": expected " + expected + ", got " + line);
          }
        };
    LineServerListener listener = mock(LineServerListener.class);
    LineServer server = builder(onExecutor).sink(sink).listener(listener).start();
    for (int s = 0; s < senders; s++) {
      int sender = s;
      start("sender-" + s, () -> sendAndFin(server, sender, perSender));
    }
    assertThat(inStall.await(Lines.TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> server.stats().connectionsAccepted() == senders);
    server.close();

    assertThat(errors).isEmpty();
    for (int s = 0; s < senders; s++) {
      assertThat(next.get(s)).as("sender %d", s).hasValue(perSender);
    }
    verify(listener, times(senders)).connectionClosed(any(), eq(CloseReason.PEER_EOF));
    LineServerStats stats = server.stats();
    assertThat(stats.lines()).isEqualTo((long) senders * perSender);
    assertThat(stats.linesDropped()).isZero();
    assertThat(stats.partialLinesDropped()).isZero();
    assertThat(stats.sinkPendingBytes()).isZero();
  }

  /** A caller with its interrupt flag set still gets the whole drain, and its flag back. */
  @ParameterizedTest(name = "onExecutor={0}")
  @ValueSource(booleans = {false, true})
  void close_fromAnInterruptedThread_stillDrainsEverything_andKeepsTheFlag(boolean onExecutor)
      throws Exception {
    int perSender = 20_000;
    AtomicLong delivered = new AtomicLong();
    AtomicBoolean afterClose = new AtomicBoolean();
    AtomicLong lateLines = new AtomicLong();
    LineSink sink =
        line -> {
          if (afterClose.get()) {
            lateLines.incrementAndGet();
          }
          delivered.incrementAndGet();
          if (delivered.get() == 1) {
            Thread.sleep(300); // slow enough that the drain has work when close() begins
          }
        };
    LogCapture log = new LogCapture();
    try {
      LineServer server = builder(onExecutor).sink(sink).start();
      start("sender", () -> sendAndFin(server, 0, perSender));
      await().atMost(Duration.ofSeconds(10)).until(() -> delivered.get() > 0);
      AtomicReference<Boolean> flagAfter = new AtomicReference<>();
      Thread caller =
          new Thread(
              () -> {
                Thread.currentThread().interrupt();
                server.close();
                flagAfter.set(Thread.currentThread().isInterrupted());
                afterClose.set(true);
              },
              "test-interrupted-closer");
      caller.start();
      caller.join(TimeUnit.SECONDS.toMillis(60));
      assertThat(caller.isAlive()).isFalse();
      assertThat(flagAfter.get()).isTrue();
      assertThat(delivered.get()).isEqualTo(perSender);
      assertThat(lateLines.get()).isZero();
      Threads.assertNoServerThreads();
      assertThat(log.atLeast(Level.WARNING)).isEmpty();
    } finally {
      log.close();
    }
  }

  /**
   * close() from a sink on the executor, or from connectionClosed there, starts the shutdown and
   * returns at once; it does not wait for the queue it runs from.
   */
  @ParameterizedTest(name = "fromConnectionClosed={0}")
  @ValueSource(booleans = {false, true})
  void close_fromTheExecutorsThread_returnsAtOnce(boolean fromConnectionClosed) throws Exception {
    AtomicReference<LineServer> self = new AtomicReference<>();
    CountDownLatch returned = new CountDownLatch(1);
    AtomicLong closeNanos = new AtomicLong();
    Runnable closeSelf =
        () -> {
          long start = System.nanoTime();
          self.get().close();
          closeNanos.set(System.nanoTime() - start);
          returned.countDown();
        };
    LineServerListener listener =
        new LineServerListener() {
          @Override
          public void connectionClosed(ConnectionInfo connection, CloseReason reason) {
            if (fromConnectionClosed) {
              closeSelf.run();
            }
          }
        };
    LineServer server =
        LineServer.builder()
            .port(0)
            .sinkExecutor(executor)
            .shutdownTimeout(Duration.ofSeconds(30))
            .listener(listener)
            .sink(
                line -> {
                  if (!fromConnectionClosed && line.equals("stop")) {
                    closeSelf.run();
                  }
                })
            .start();
    self.set(server);
    try (Client client = new Client(server)) {
      client.send("stop\n");
      if (fromConnectionClosed) {
        client.shutdownOutput();
      }
      assertThat(returned.await(Lines.TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
      // The shutdown timeout is 30 s: waiting for itself would have taken all of it.
      assertThat(TimeUnit.NANOSECONDS.toSeconds(closeNanos.get())).isLessThan(5);
      assertThat(client.awaitServerClose()).isTrue();
    }
    server.close(); // waits for the shutdown the sink started
  }

  /**
   * A sink that ignores interrupts and never returns on its own: close() gives up on it one second
   * after the timeout's grace, closes the connection's socket (the peer sees it end), reports the
   * stuck thread with its stack, delivers nothing more, and the thread ends once the call returns.
   */
  @ParameterizedTest(name = "onExecutor={0}")
  @ValueSource(booleans = {false, true})
  void close_aSinkThatNeverReturns_isReportedAndCutOff_noLineAfterClose(boolean onExecutor)
      throws Exception {
    CountDownLatch stuck = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicLong calls = new AtomicLong();
    LineSink sink =
        line -> {
          calls.incrementAndGet();
          if (line.equals("stuck")) {
            stuck.countDown();
            awaitIgnoringInterrupts(release);
          }
        };
    LineServerListener listener = mock(LineServerListener.class);
    LineServer.Builder builder =
        onExecutor
            ? LineServer.builder().port(0).sinkExecutor(executor)
            : LineServer.builder().port(0);
    LineServer server =
        builder.shutdownTimeout(Duration.ofMillis(200)).sink(sink).listener(listener).start();
    LogCapture log = new LogCapture();
    try (Client client = new Client(server)) {
      client.send("stuck\nafter 1\nafter 2\n");
      assertThat(stuck.await(Lines.TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
      await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().bytesReceived() == 22);
      server.close();
      assertThat(client.awaitServerClose()).as("the peer sees its connection end").isTrue();
      assertThat(log.atLeast(Level.WARNING))
          .anySatisfy(
              r ->
                  assertThat(r.getMessage())
                      .containsAnyOf("still in a sink", "did not work off its queues"));
      release.countDown();
      await().atMost(Duration.ofSeconds(10)).untilAsserted(Threads::assertNoServerThreads);
      assertThat(calls.get()).as("no sink call after close() returned").isEqualTo(1);
      await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().connectionsOpen() == 0);
      assertThat(server.stats().linesDropped()).isEqualTo(2);
    } finally {
      release.countDown();
      log.close();
    }
    // After close() gave up, nothing more reaches the listener.
    verify(listener, never()).connectionClosed(any(), any());
  }

  private static void awaitIgnoringInterrupts(CountDownLatch latch) {
    while (true) {
      try {
        if (latch.await(Lines.TIMEOUT_SECONDS * 3, TimeUnit.SECONDS)) {
          return;
        }
      } catch (InterruptedException ignored) {
        // the adversary: a sink that swallows the interrupt close() sends it
      }
    }
  }

  /** Writes numbered lines, then FIN; blocks while the server holds it back. */
  private static void sendAndFin(LineServer server, int sender, int count) throws IOException {
    try (Client client = new Client(server)) {
      StringBuilder batch = new StringBuilder();
      for (int i = 0; i < count; i++) {
        batch.append(sender).append(',').append(i).append(",xxxxxxxxxx\n");
        if (batch.length() > 8192 || i == count - 1) {
          client.send(batch.toString().getBytes(StandardCharsets.UTF_8));
          batch.setLength(0);
        }
      }
      client.shutdownOutput();
      client.awaitServerClose();
    }
  }

  private void start(String name, ThrowingRunnable body) {
    Thread thread =
        new Thread(
            () -> {
              try {
                body.run();
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            },
            "test-" + name);
    started.add(thread);
    thread.start();
  }

  private interface ThrowingRunnable {
    void run() throws Exception;
  }
}
