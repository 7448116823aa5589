package dev.lineserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.ArgumentMatchers.isNull;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.timeout;
import static org.mockito.Mockito.verify;

import dev.lineserver.testing.Client;
import dev.lineserver.testing.ExplodingCharset;
import dev.lineserver.testing.Lines;
import dev.lineserver.testing.LogCapture;
import dev.lineserver.testing.NumberedLines;
import dev.lineserver.testing.Threads;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A failure in user code costs only its own line or connection: sinks and listeners that throw
 * {@link Error}s, decoders that throw, sinks that set the interrupt flag, executors that refuse or
 * run tasks on the caller, and floods of reports.
 */
final class ContainmentTest {
  private static final long TIMEOUT_MILLIS = Lines.TIMEOUT_SECONDS * 1000;

  private final ExecutorService pool = Executors.newFixedThreadPool(2);

  @AfterEach
  void shutDown() throws InterruptedException {
    pool.shutdownNow();
    assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    Threads.assertNoServerThreads();
  }

  /** "pool", "caller-runs" (the I/O thread runs the task) or "io" (no executor). */
  private LineServer.Builder inMode(String mode) {
    LineServer.Builder builder = LineServer.builder().port(0).ioThreads(1).maxPendingBytes(4096);
    return switch (mode) {
      case "pool" -> builder.sinkExecutor(pool);
      case "caller-runs" -> builder.sinkExecutor(Runnable::run);
      default -> builder;
    };
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"io", "pool", "caller-runs"})
  void sinkThrowsAnError_closesOnlyItsConnection_withServerError_theOthersGoOn(String mode)
      throws Exception {
    Lines lines = new Lines();
    AtomicLong delivered = new AtomicLong();
    LineSink sink =
        line -> {
          if (line.equals("boom")) {
            throw new AssertionError("a bug in the sink");
          }
          if (line.startsWith("bystander")) {
            delivered.incrementAndGet();
          } else {
            lines.accept(line);
          }
        };
    LineServerListener listener = mock(LineServerListener.class);
    int count = 20_000;
    try (LineServer server = inMode(mode).sink(sink).listener(listener).start();
        Client offender = new Client(server);
        Client bystander = new Client(server)) {
      offender.send("before\nboom\nnever\n");
      assertThat(lines.take()).isEqualTo("before");
      assertThat(offender.awaitServerClose()).isTrue();
      verify(listener, timeout(TIMEOUT_MILLIS))
          .connectionClosed(any(), eq(CloseReason.SERVER_ERROR));
      verify(listener).sinkError(any(), eq("boom"), any(AssertionError.class));
      // The same I/O thread (one only) and the same budget serve the bystander to the end.
      StringBuilder all = new StringBuilder();
      for (int i = 0; i < count; i++) {
        all.append("bystander ").append(i).append('\n');
      }
      bystander.send(all.toString());
      await().atMost(Duration.ofSeconds(30)).until(() -> delivered.get() == count);
      LineServerStats stats = server.stats();
      assertThat(stats.sinkFailures()).isEqualTo(1);
      assertThat(stats.sinkPendingBytes()).isZero();
      assertThat(stats.connectionsOpen()).isEqualTo(1);
      assertThat(lines.remaining()).isEmpty(); // "never" was not delivered
    }
  }

  @Test
  void byteSinkThrows_withACharsetWhoseDecoderThrows_costsOneLine_andIsCounted() throws Exception {
    LineServerListener listener = mock(LineServerListener.class);
    Lines lines = new Lines();
    try (LineServer server =
            LineServer.builder()
                .port(0)
                .ioThreads(1)
                .charset(new ExplodingCharset())
                .listener(listener)
                .byteSink(
                    (connection, line) -> {
                      if (line.indexOf((byte) '!', 0) >= 0) {
                        throw new IllegalArgumentException("no bangs");
                      }
                      lines.accept(new String(line.toByteArray(), "US-ASCII"));
                    })
                .start();
        Client offender = new Client(server);
        Client bystander = new Client(server)) {
      offender.send("bang!\nafter\n");
      assertThat(lines.take()).isEqualTo("after");
      bystander.send("fine\n");
      assertThat(lines.take()).isEqualTo("fine");
      // The report could not decode the line: it says null rather than dying trying.
      verify(listener).sinkFailed(any(), isNull(), any(IllegalArgumentException.class));
      assertThat(server.stats().sinkFailures()).isEqualTo(1);
      verify(listener, never()).connectionClosed(any(), eq(CloseReason.SERVER_ERROR));
    }
  }

  @Test
  void listenerThrowsErrors_theAcceptorAndTheOnlyIoThreadSurvive() throws Exception {
    Lines lines = new Lines();
    LineServerListener listener =
        new LineServerListener() {
          @Override
          public void connectionOpened(ConnectionInfo connection) {
            throw new StackOverflowError("deep listener");
          }

          @Override
          public void connectionRefused(SocketAddress remoteAddress, RefusalReason reason) {
            throw new AssertionError("listener bug");
          }
        };
    try (LineServer server =
        LineServer.builder()
            .port(0)
            .ioThreads(1)
            .maxConnections(1)
            .listener(listener)
            .sink(lines)
            .start()) {
      try (Client first = new Client(server)) {
        first.send("one\n");
        assertThat(lines.take()).isEqualTo("one");
        try (Client refused = new Client(server)) {
          assertThat(refused.awaitServerClose()).isTrue();
        }
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> server.stats().connectionsRefused() == 1);
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().connectionsOpen() == 0);
      try (Client later = new Client(server)) {
        later.send("two\n");
        assertThat(lines.take()).isEqualTo("two");
      }
    }
  }

  @Test
  void defaultLineTooLong_aFloodLogsAtMostOnceASecond_andOtherLinesFlow() throws Exception {
    Lines lines = new Lines();
    LogCapture log = new LogCapture();
    int floodLines = 200_000;
    try (LineServer server =
            LineServer.builder().port(0).ioThreads(1).maxLineLength(8).sink(lines).start();
        Client flooder = new Client(server);
        Client other = new Client(server)) {
      flooder.send("0123456789\n".repeat(floodLines)); // 2.2 MB of 10-byte lines, each too long
      other.send("short\n");
      assertThat(lines.take()).isEqualTo("short");
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> server.stats().linesTooLong() == floodLines);
      long warnings = log.atLeast(Level.WARNING).size();
      assertThat(warnings).as("WARNING records for %d too-long lines", floodLines).isLessThan(60);
    } finally {
      log.close();
    }
  }

  /** A sink that sets its thread's interrupt flag, a common idiom, must not make select() spin. */
  @Test
  void sinkLeavesTheInterruptFlagSet_theIoThreadDoesNotSpin() throws Exception {
    Lines lines = new Lines();
    AtomicLong ioThread = new AtomicLong();
    LineSink sink =
        line -> {
          ioThread.set(Thread.currentThread().getId());
          lines.accept(line);
          Thread.currentThread().interrupt();
        };
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    try (LineServer server = LineServer.builder().port(0).ioThreads(1).sink(sink).start();
        Client client = new Client(server)) {
      client.send("interrupts itself\n");
      assertThat(lines.take()).isEqualTo("interrupts itself");
      long before = threads.getThreadCpuTime(ioThread.get());
      lines.awaitNothing(1_000);
      long spent = threads.getThreadCpuTime(ioThread.get()) - before;
      // A spinning selector burns most of the second; an idle one close to nothing.
      assertThat(TimeUnit.NANOSECONDS.toMillis(spent)).isLessThan(200);
      client.send("still served\n");
      assertThat(lines.take()).isEqualTo("still served");
    }
  }

  /**
   * An executor that refuses work (saturated, AbortPolicy) is back-pressure, not a failure: the
   * lines stay queued within the budget and are handed over again; none is lost or reordered.
   */
  @Test
  void executorRefuses_linesAreRetried_noneLost_inOrder() throws Exception {
    ThreadPoolExecutor saturated =
        new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new SynchronousQueue<>());
    AtomicLong next = new AtomicLong();
    AtomicLong outOfOrder = new AtomicLong();
    int connections = 4;
    int perConnection = 5_000;
    java.util.Map<String, AtomicLong> expected = new java.util.concurrent.ConcurrentHashMap<>();
    ConnectionLineSink sink =
        (connection, line) -> {
          next.incrementAndGet();
          String[] parts = line.split(",");
          long want = expected.computeIfAbsent(parts[0], c -> new AtomicLong()).getAndIncrement();
          if (Long.parseLong(parts[1]) != want) {
            outOfOrder.incrementAndGet();
          }
        };
    LineServerListener listener = mock(LineServerListener.class);
    try (LineServer server =
        LineServer.builder()
            .port(0)
            .sinkExecutor(saturated)
            .listener(listener)
            .connectionSink(sink)
            .start()) {
      NumberedLines.send(server, connections, perConnection);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> next.get() == (long) connections * perConnection);
      assertThat(saturated.getCompletedTaskCount()).isPositive();
      assertThat(server.stats().linesDropped()).isZero();
      verify(listener, never()).connectionClosed(any(), eq(CloseReason.SERVER_ERROR));
    } finally {
      saturated.shutdownNow();
      assertThat(saturated.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(outOfOrder.get()).isZero();
  }

  /**
   * An executor that is shut down never takes the lines: the connection ends, its lines counted.
   */
  @Test
  void executorShutDown_closesTheConnectionWithServerError_andCountsItsLinesDropped()
      throws Exception {
    ExecutorService gone = Executors.newSingleThreadExecutor();
    gone.shutdown();
    LineServerListener listener = mock(LineServerListener.class);
    AtomicLong calls = new AtomicLong();
    LogCapture log = new LogCapture();
    try (LineServer server =
            LineServer.builder()
                .port(0)
                .sinkExecutor(gone)
                .listener(listener)
                .sink(line -> calls.incrementAndGet())
                .start();
        Client client = new Client(server)) {
      client.send("a\nb\nc\n");
      assertThat(client.awaitServerClose()).isTrue();
      verify(listener, timeout(TIMEOUT_MILLIS))
          .connectionClosed(any(), eq(CloseReason.SERVER_ERROR));
      LineServerStats stats = server.stats();
      assertThat(stats.lines()).isZero();
      assertThat(stats.linesDropped()).isEqualTo(3);
      assertThat(stats.sinkPendingBytes()).isZero();
      assertThat(log.atLeast(Level.SEVERE)).isEmpty();
      assertThat(log.atLeast(Level.WARNING))
          .anySatisfy(r -> assertThat(r.getMessage()).contains("shut down"));
    } finally {
      log.close();
    }
    assertThat(calls.get()).isZero();
  }

  /** Lines after a restart limit never reach the sink: counted as dropped, not as lines. */
  @Test
  void restartLimitOnTheExecutor_linesLeftInTheQueue_countAsDropped() throws Exception {
    AtomicLong calls = new AtomicLong();
    StringBuilder burst = new StringBuilder();
    for (int i = 0; i < 100; i++) {
      burst.append("bad ").append(i).append('\n');
    }
    try (LineServer server =
            LineServer.builder()
                .port(0)
                .sinkExecutor(pool)
                .restartIntensity(0, Duration.ofMinutes(1))
                .sink(
                    line -> {
                      calls.incrementAndGet();
                      throw new IllegalStateException("rejects every line");
                    })
                .start();
        Client client = new Client(server)) {
      client.send(burst.toString());
      assertThat(client.awaitServerClose()).isTrue();
      await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().connectionsOpen() == 0);
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                LineServerStats stats = server.stats();
                assertThat(stats.lines()).isEqualTo(calls.get());
                assertThat(stats.lines() + stats.linesDropped()).isEqualTo(100);
              });
      assertThat(calls.get()).isLessThan(100);
    }
  }
}
