package dev.lineserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lineserver.testing.Client;
import dev.lineserver.testing.Lines;
import dev.lineserver.testing.LogCapture;
import dev.lineserver.testing.Threads;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Breaks an outside review found in the first fixes of the drain, budget and containment promises,
 * kept as regression tests: each states the promise of README.md or the javadoc it holds to. Real
 * loopback sockets; no sleep is used to synchronize.
 */
final class RedTeamTest {
  private final ExecutorService pool = Executors.newFixedThreadPool(2);
  private final List<LineServer> servers = new CopyOnWriteArrayList<>();
  private final List<CountDownLatch> releases = new CopyOnWriteArrayList<>();

  @AfterEach
  void tearDown() throws InterruptedException {
    for (CountDownLatch release : releases) {
      release.countDown();
    }
    for (LineServer server : servers) {
      server.close();
    }
    pool.shutdownNow();
    assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    await().atMost(Duration.ofSeconds(10)).untilAsserted(Threads::assertNoServerThreads);
  }

  private LineServer start(LineServer.Builder builder) throws Exception {
    LineServer server = builder.start();
    servers.add(server);
    return server;
  }

  private CountDownLatch release() {
    CountDownLatch latch = new CountDownLatch(1);
    releases.add(latch);
    return latch;
  }

  private static void awaitUninterruptibly(CountDownLatch latch) {
    while (true) {
      try {
        if (!latch.await(30, TimeUnit.SECONDS)) {
          throw new IllegalStateException("test latch never released");
        }
        return;
      } catch (InterruptedException e) {
        // the adversary: a sink that ignores interrupts
      }
    }
  }

  private static Thread closeInBackground(LineServer server, long[] tookMillis) {
    Thread closer =
        new Thread(
            () -> {
              long start = System.nanoTime();
              server.close();
              tookMillis[0] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            },
            "test-closer");
    closer.start();
    return closer;
  }

  /**
   * Promise (README, Defenses, A slow sink): "An executor that refuses a task
   * (RejectedExecutionException, a saturated pool) is back-pressure, not a failure: the lines stay
   * queued within the budget and are handed to it again every 10 ms"; and (Close) every complete
   * line read before the drain ends is delivered exactly once, and each connection's
   * connectionClosed comes after its last line.
   *
   * <p>Break: during close(), the I/O loop ends as soon as its last connection is closed, while
   * that connection's queue still holds chunks for the sink task. When the task re-submits itself
   * (after its 4 chunks per task) and the executor refuses once, the retry is queued on the dead
   * I/O loop ({@code loop.execute}) and never runs: the queued lines are dropped when close() gives
   * up at shutdownTimeout + 2 s, and connectionClosed is never reported.
   */
  @Test
  void executorRefusesOnceAfterTheIoLoopEnded_closeHandsItOverAgain_noLineLost() throws Exception {
    AtomicInteger refuseNext = new AtomicInteger();
    Executor refusingOnce =
        task -> {
          if (refuseNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new RejectedExecutionException("saturated, just this once");
          }
          pool.execute(task);
        };
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = release();
    BlockingQueue<String> delivered = new LinkedBlockingQueue<>();
    BlockingQueue<CloseReason> closedReasons = new LinkedBlockingQueue<>();
    LineServer server =
        start(
            LineServer.builder()
                .ioThreads(1)
                .shutdownTimeout(Duration.ofSeconds(1))
                .sinkExecutor(refusingOnce)
                .sink(
                    line -> {
                      if (line.equals("first")) {
                        entered.countDown();
                        awaitUninterruptibly(release);
                      }
                      delivered.add(line);
                    })
                .listener(
                    new LineServerListener() {
                      @Override
                      public void connectionClosed(ConnectionInfo connection, CloseReason reason) {
                        closedReasons.add(reason);
                      }
                    }));
    try (Client client = new Client(server)) {
      client.send("first\n");
      assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
      long sent = 6;
      // Six more lines, each in its own read, so each is its own chunk: more than one task's four.
      for (int i = 1; i <= 6; i++) {
        String line = "line" + i + "\n";
        client.send(line);
        sent += line.length();
        long expected = sent;
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> server.stats().bytesReceived() == expected);
      }
      long[] took = new long[1];
      Thread closer = closeInBackground(server, took);
      // The drain finds the connection quiet; it waits for its sink queue (the sink may still
      // reply) until the shutdown timeout, then closes, and its I/O loop ends.
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> !Threads.serverThreads().contains("line-server-io-1"));
      refuseNext.set(1); // the pool is saturated once, when the sink task hands itself back
      release.countDown();
      closer.join(TimeUnit.SECONDS.toMillis(30));
      assertThat(closer.isAlive()).isFalse();

      List<String> all = new java.util.ArrayList<>();
      delivered.drainTo(all);
      LineServerStats stats = server.stats();
      assertThat(all)
          .as(
              "every line read is delivered (close() took %d ms, linesDropped=%d,"
                  + " connectionClosed reasons=%s)",
              took[0], stats.linesDropped(), closedReasons)
          .containsExactly("first", "line1", "line2", "line3", "line4", "line5", "line6");
      assertThat(closedReasons).containsExactly(CloseReason.SHUTDOWN_TIMEOUT);
    }
  }

  /**
   * Promise (README, A slow sink; Builder.maxPendingBytes javadoc): "heap for queued lines stays
   * within maxPendingBytes + ioThreads × 256 KiB"; "passed by at most one read per I/O thread (at
   * most 256 KiB each)".
   *
   * <p>Break: a long line that accumulated across reads in the connection's partial-line array is
   * queued whole by the read that ends it, so one read queues up to maxLineLength bytes. With
   * maxPendingBytes 1024 and one I/O thread, a 1 MB line puts sinkPendingBytes at ~1 MB.
   */
  @Test
  void longLine_passesTheBudgetByOneLineUpToMaxLineLength_asDocumented() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = release();
    int length = 1_000_000;
    LineServer server =
        start(
            LineServer.builder()
                .ioThreads(1)
                .maxLineLength(2 * length)
                .maxPendingBytes(1024)
                .sinkExecutor(pool)
                .sink(
                    line -> {
                      entered.countDown();
                      awaitUninterruptibly(release);
                    }));
    try (Client client = new Client(server)) {
      client.send("x".repeat(length) + "\n");
      assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
      long pending = server.stats().sinkPendingBytes(); // the chunk is held until the sink returns
      release.countDown();
      // The documented bound with long lines: one line up to maxLineLength per I/O thread.
      assertThat(pending)
          .as("sinkPendingBytes while the sink holds the one line")
          .isBetween((long) length, 1024 + 257 * 1024 + (long) 2 * length);
    }
  }

  /**
   * Promise (README, Close; LineServer.close() javadoc): when close() gives up on an I/O thread
   * stuck in a sink call, "that thread delivers and reports nothing more"; "That one call is the
   * only user code that can still run after close() returned."
   *
   * <p>Break: once the stuck call returns, the rest of that read is still worked through: a line
   * too long is reported to lineTooLong, and the stuck call's own exception to sinkFailed — both
   * listener calls after close() returned. (Connection.handle and SinkCall.failed do not check
   * isAbandoned.)
   */
  @Test
  void abandonedIoThread_reportsNothingAfterCloseReturned() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = release();
    AtomicBoolean closeReturned = new AtomicBoolean();
    List<String> afterClose = new CopyOnWriteArrayList<>();
    LineServer server =
        start(
            LineServer.builder()
                .ioThreads(1)
                .maxLineLength(4)
                .shutdownTimeout(Duration.ZERO)
                .sink(
                    line -> {
                      entered.countDown();
                      awaitUninterruptibly(release);
                      throw new IllegalStateException("the stuck call fails as it returns");
                    })
                .listener(
                    new LineServerListener() {
                      @Override
                      public void lineTooLong(ConnectionInfo connection, long length) {
                        if (closeReturned.get()) {
                          afterClose.add("lineTooLong(" + length + ")");
                        }
                      }

                      @Override
                      public void sinkFailed(ConnectionInfo connection, String line, Exception e) {
                        if (closeReturned.get()) {
                          afterClose.add("sinkFailed(" + line + ")");
                        }
                      }

                      @Override
                      public void sinkError(ConnectionInfo connection, String line, Error e) {
                        if (closeReturned.get()) {
                          afterClose.add("sinkError(" + line + ")");
                        }
                      }

                      @Override
                      public void connectionClosed(ConnectionInfo connection, CloseReason reason) {
                        if (closeReturned.get()) {
                          afterClose.add("connectionClosed(" + reason + ")");
                        }
                      }
                    }));
    try (Client client = new Client(server)) {
      client.send("a\nmuch too long\n"); // one read: the line "a", then a line too long
      assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
      server.close(); // gives up on line-server-io-1 about 2 s later
      closeReturned.set(true);
      release.countDown();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> !Threads.serverThreads().contains("line-server-io-1"));
      assertThat(afterClose).as("listener calls after close() returned").isEmpty();
    }
  }

  /**
   * Promise (README, Close): SERVER_CLOSE means "everything it sent was delivered"; (Failures) a
   * sink that throws an Error "loses its line and its connection: ... the connection is closed with
   * SERVER_ERROR (its lines still queued for a sink executor are dropped and counted)".
   *
   * <p>Break (sink executor): when the socket was already closed (SERVER_CLOSE by the drain, or
   * PEER_EOF) while lines were still queued, a sink Error drops the queued lines (linesDropped) but
   * the connection is reported as closed with SERVER_CLOSE: the listener is told everything was
   * delivered while a line was dropped, and stats count no SERVER_ERROR.
   */
  @Test
  void sinkErrorAfterServerClose_reportsServerError_sinceLinesWereDropped() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = release();
    BlockingQueue<String> delivered = new LinkedBlockingQueue<>();
    BlockingQueue<CloseReason> closedReasons = new LinkedBlockingQueue<>();
    LineServer server =
        start(
            LineServer.builder()
                .ioThreads(1)
                .sinkExecutor(pool)
                .sink(
                    line -> {
                      if (line.equals("boom")) {
                        entered.countDown();
                        awaitUninterruptibly(release);
                        throw new AssertionError("the sink's bug");
                      }
                      delivered.add(line);
                    })
                .listener(
                    new LineServerListener() {
                      @Override
                      public void sinkError(ConnectionInfo connection, String line, Error error) {}

                      @Override
                      public void connectionClosed(ConnectionInfo connection, CloseReason reason) {
                        closedReasons.add(reason);
                      }
                    }));
    try (Client client = new Client(server)) {
      client.send("boom\n");
      assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
      client.send("after\n");
      await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().bytesReceived() == 11);
      long[] took = new long[1];
      Thread closer = closeInBackground(server, took);
      // The drain finds the connection quiet; it closes once its queue is through (the sink's
      // replies to its lines may still be written), so the client sees the end after the error.
      release.countDown();
      assertThat(client.awaitServerClose()).isTrue();
      closer.join(TimeUnit.SECONDS.toMillis(30));
      assertThat(closer.isAlive()).isFalse();

      CloseReason reason = closedReasons.poll(10, TimeUnit.SECONDS);
      LineServerStats stats = server.stats();
      assertThat(
              reason == CloseReason.SERVER_CLOSE
                  && (stats.linesDropped() > 0 || !delivered.contains("after")))
          .as(
              "connectionClosed(%s) although linesDropped=%d and delivered=%s",
              reason, stats.linesDropped(), delivered)
          .isFalse();
    }
  }

  /**
   * Promise (README, Close): "Every complete line read from a connection before the drain ends is
   * delivered exactly once"; a connection quiet for 200 ms with its socket empty is closed with
   * SERVER_CLOSE; at the timeout a partial line is "dropped and counted in partialLinesDropped".
   * (Behind haproxy, OPTIONAL mode: "\r\n" sent by a plain client is the empty line "".)
   *
   * <p>Break (PROXY OPTIONAL): a plain client whose first line is the empty line "\r\n" (it could
   * still be the start of a v2 signature) holds close() for the whole shutdownTimeout; then the
   * connection is cut with SHUTDOWN_TIMEOUT and the complete line "" is never delivered, nor
   * counted anywhere (partialLinesDropped 0, linesDropped 0).
   */
  @Test
  void proxyOptional_emptyFirstLineAtClose_isDelivered() throws Exception {
    Lines lines = new Lines();
    LineServer server =
        start(
            LineServer.builder()
                .ioThreads(1)
                .proxyProtocol(ProxyProtocol.OPTIONAL)
                .shutdownTimeout(Duration.ofSeconds(1))
                .sink(lines));
    try (Client client = new Client(server)) {
      client.send("\r\n");
      await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().bytesReceived() == 2);
      server.close();
      LineServerStats stats = server.stats();
      assertThat(lines.remaining())
          .as(
              "the complete empty line is delivered (closed=%s, partialLinesDropped=%d,"
                  + " linesDropped=%d)",
              stats.connectionsClosed(), stats.partialLinesDropped(), stats.linesDropped())
          .containsExactly("");
    }
  }

  /**
   * Promise (README, Close; close() javadoc): "a sink or listener call still running one second
   * past the timeout has its thread interrupted, and one second later close() gives up on it with a
   * WARNING that shows its stack."
   *
   * <p>Break (sink executor): the executor's thread stuck in the sink is never interrupted (only
   * the server's own threads are), so a sink that would return on interrupt stays stuck after
   * close() returned.
   */
  @Test
  void stuckSinkOnExecutor_isGivenUpOn_withTheThreadsStackInTheWarning() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = release();
    LineServer server =
        start(
            LineServer.builder()
                .ioThreads(1)
                .shutdownTimeout(Duration.ZERO)
                .sinkExecutor(pool)
                .sink(
                    line -> {
                      entered.countDown();
                      awaitUninterruptibly(release);
                    }));
    try (LogCapture log = new LogCapture();
        Client client = new Client(server)) {
      client.send("stuck\n");
      assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
      server.close(); // returns about 2 s later, giving up on the queue
      assertThat(log.atLeast(java.util.logging.Level.WARNING))
          .anySatisfy(
              r -> {
                assertThat(r.getMessage()).contains("did not work off its queues");
                assertThat(r.getThrown().getSuppressed())
                    .anySatisfy(t -> assertThat(t.getMessage()).startsWith("pool-"));
              });
    }
  }

  /**
   * Promise (README, Problems are never silent; CHANGELOG): "A sink or listener that leaves its
   * thread's interrupt flag set does not disturb an I/O thread: the flag is cleared before each
   * select." The README's sentence names I/O threads only; listener calls on the acceptor
   * (connectionRefused, acceptFailed) are listener calls too.
   *
   * <p>Break (outside the letter, inside the spirit): a connectionRefused listener that leaves the
   * flag set makes line-server-accept spin at 100 % CPU, since its select(0) returns at once for
   * ever. Measured as the acceptor's CPU time over one second of idleness.
   */
  @Test
  void refusedListenerLeavingInterruptFlag_theAcceptorDoesNotSpin() throws Exception {
    CountDownLatch refused = new CountDownLatch(1);
    LineServer server =
        start(
            LineServer.builder()
                .allow("192.0.2.0/24")
                .sink(line -> {})
                .listener(
                    new LineServerListener() {
                      @Override
                      public void connectionRefused(
                          java.net.SocketAddress remoteAddress, RefusalReason reason) {
                        Thread.currentThread().interrupt();
                        refused.countDown();
                      }
                    }));
    new Client(server).close();
    assertThat(refused.await(10, TimeUnit.SECONDS)).isTrue();
    Thread acceptor =
        Thread.getAllStackTraces().keySet().stream()
            .filter(t -> t.getName().equals("line-server-accept"))
            .findFirst()
            .orElseThrow();
    java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
    long cpuBefore = mx.getThreadCpuTime(acceptor.getId());
    long wallBefore = System.nanoTime();
    new CountDownLatch(1).await(1, TimeUnit.SECONDS); // a measuring window, not synchronization
    long cpuMillis =
        TimeUnit.NANOSECONDS.toMillis(mx.getThreadCpuTime(acceptor.getId()) - cpuBefore);
    long wallMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - wallBefore);
    assertThat(cpuMillis).as("CPU ms the idle acceptor used in %d ms", wallMillis).isLessThan(100);
  }
}
