package dev.lineserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.timeout;
import static org.mockito.Mockito.verify;

import dev.lineserver.testing.Client;
import dev.lineserver.testing.Lines;
import dev.lineserver.testing.NumberedLines;
import dev.lineserver.testing.Threads;
import java.io.IOException;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.mockito.InOrder;

final class SinkExecutorTest {
  private static final long TIMEOUT_MILLIS = Lines.TIMEOUT_SECONDS * 1000;

  private final ExecutorService executor = Executors.newFixedThreadPool(4);
  private final LineServerListener listener = mock(LineServerListener.class);

  @AfterEach
  void shutDown() throws InterruptedException {
    executor.shutdownNow();
    assertThat(executor.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    Threads.assertNoServerThreads();
  }

  @Test
  void executor_keepsEachConnectionsOrder_andNeverRunsItConcurrently() throws Exception {
    int connections = 20;
    int perConnection = 2_000;
    Map<Long, List<String>> received = new ConcurrentHashMap<>();
    Map<Long, AtomicBoolean> inSink = new ConcurrentHashMap<>();
    AtomicLong overlaps = new AtomicLong();
    CountDownLatch all = new CountDownLatch(connections * perConnection);
    ConnectionLineSink sink =
        (connection, line) -> {
          AtomicBoolean busy = inSink.computeIfAbsent(connection.id(), id -> new AtomicBoolean());
          if (!busy.compareAndSet(false, true)) {
            overlaps.incrementAndGet();
          }
          assertThat(Thread.currentThread().getName()).doesNotStartWith("line-server-");
          received.computeIfAbsent(connection.id(), id -> new ArrayList<>()).add(line);
          busy.set(false);
          all.countDown();
        };
    try (LineServer server =
        LineServer.builder().port(0).connectionSink(sink).sinkExecutor(executor).start()) {
      NumberedLines.send(server, connections, perConnection);
      assertThat(all.await(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)).isTrue();
    }
    assertThat(overlaps.get()).isZero();
    NumberedLines.assertInOrder(received.values(), connections, perConnection);
  }

  @Test
  void budgetSpent_readingPauses_sendersBlock_pendingBytesStayBounded_noLineLost()
      throws Exception {
    long budget = 64 * 1024;
    // 60 MB of 100-byte lines: more than the budget and more than the kernel's socket buffers,
    // which on loopback grow up to 32 MB to receive and 4 MB to send.
    int lineCount = 600_000;
    String padding = ".".repeat(80);
    CountDownLatch gate = new CountDownLatch(1);
    AtomicLong delivered = new AtomicLong();
    AtomicLong outOfOrder = new AtomicLong();
    LineSink sink =
        line -> {
          gate.await();
          long expected = delivered.getAndIncrement();
          if (!line.equals(padding + expected)) {
            outOfOrder.incrementAndGet();
          }
        };
    AtomicLong written = new AtomicLong();
    try (LineServer server =
            LineServer.builder()
                .port(0)
                .sink(sink)
                .sinkExecutor(executor)
                .maxPendingBytes(budget)
                .start();
        Client client = new Client(server)) {
      Thread writer =
          new Thread(
              () -> {
                try {
                  for (int i = 0; i < lineCount; i++) {
                    byte[] line =
                        (padding + i + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
                    client.send(line);
                    written.addAndGet(line.length);
                  }
                } catch (IOException e) {
                  throw new IllegalStateException(e);
                }
              },
              "test-writer");
      writer.start();

      await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().readsPaused() > 0);
      // The sender is stuck: TCP pushes back once the server stopped reading.
      AtomicLong lastSeen = new AtomicLong(-1);
      await()
          .during(Duration.ofMillis(500))
          .atMost(Duration.ofSeconds(30))
          .until(() -> lastSeen.getAndSet(written.get()) == written.get());
      LineServerStats paused = server.stats();
      assertThat(writer.isAlive()).isTrue();
      // Bounded: the budget, plus what one read may have queued past it.
      assertThat(paused.sinkPendingBytes()).isBetween(budget, budget + 64 * 1024 + 64 * 1024);

      gate.countDown();
      writer.join(TimeUnit.SECONDS.toMillis(60));
      assertThat(writer.isAlive()).isFalse();
      await().atMost(Duration.ofSeconds(60)).until(() -> delivered.get() == lineCount);
      assertThat(outOfOrder.get()).isZero();
      assertThat(server.stats().sinkPendingBytes()).isZero();
    } finally {
      gate.countDown();
    }
  }

  @Test
  void pausedReading_isNotTimedAgainstThePeer_noIdleOrLineTimeoutWhileTheSinkIsBehind()
      throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    Lines lines = new Lines();
    LineSink slow =
        line -> {
          gate.await();
          lines.accept(line);
        };
    try (LineServer server =
            LineServer.builder()
                .port(0)
                .sinkExecutor(executor)
                .maxPendingBytes(1024)
                .idleTimeout(Duration.ofMillis(200))
                .lineTimeout(Duration.ofMillis(200))
                .sink(slow)
                .start();
        Client client = new Client(server)) {
      // Enough to spend the budget, ending inside a line the server has not read yet.
      String full = ("x".repeat(100) + "\n").repeat(100);
      client.send(full + "the end of a line that ");
      await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().readsPaused() > 0);
      // Paused for many timeout periods: neither clock may close the connection meanwhile.
      await()
          .during(Duration.ofMillis(1_000))
          .atMost(Duration.ofSeconds(5))
          .until(() -> server.stats().connectionsOpen() == 1);
      gate.countDown();
      client.send("arrived\n");
      for (int i = 0; i < 100; i++) {
        assertThat(lines.take()).hasSize(100);
      }
      assertThat(lines.take()).isEqualTo("the end of a line that arrived");
    } finally {
      gate.countDown();
    }
  }

  @Test
  void restartIntensity_onTheExecutor_closesOnlyThatConnection() throws Exception {
    Lines lines = new Lines();
    LineSink sink =
        line -> {
          if (line.equals("bad")) {
            throw new IllegalStateException("bad line");
          }
          lines.accept(line);
        };
    try (LineServer server =
            LineServer.builder()
                .port(0)
                .sink(sink)
                .sinkExecutor(executor)
                .listener(listener)
                .restartIntensity(1, Duration.ofMinutes(1))
                .start();
        Client offender = new Client(server);
        Client bystander = new Client(server)) {
      offender.send("ok\nbad\nbad\n");
      assertThat(lines.take()).isEqualTo("ok");
      assertThat(offender.awaitServerClose()).isTrue();
      verify(listener, timeout(TIMEOUT_MILLIS))
          .connectionClosed(any(), eq(CloseReason.RESTART_LIMIT));
      bystander.send("fine\n");
      assertThat(lines.take()).isEqualTo("fine");
      assertThat(server.stats().sinkFailures()).isEqualTo(2);
      assertThat(server.stats().restartLimitsReached()).isEqualTo(1);
    }
  }

  @Test
  void close_waitsForQueuedLines_andReportsTheCloseAfterThem() throws Exception {
    CountDownLatch gate = new CountDownLatch(1);
    AtomicLong delivered = new AtomicLong();
    LineSink sink =
        line -> {
          gate.await();
          delivered.incrementAndGet();
        };
    LineServer server =
        LineServer.builder().port(0).sink(sink).sinkExecutor(executor).listener(listener).start();
    try (Client client = new Client(server)) {
      client.send("a\nb\nc\n");
      await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().bytesReceived() == 6);
      Thread closer = new Thread(server::close, "test-closer");
      closer.start();
      // close() cannot finish while three lines wait for the sink.
      await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(closer::isAlive);
      gate.countDown();
      closer.join(TIMEOUT_MILLIS);
      assertThat(closer.isAlive()).isFalse();
      assertThat(delivered.get()).isEqualTo(3);
      InOrder order = inOrder(listener);
      order.verify(listener).connectionOpened(any());
      order.verify(listener).connectionClosed(any(), eq(CloseReason.SERVER_CLOSE));
    }
  }

  @Test
  void defaultMode_aBlockedSink_delaysOnlyTheConnectionsOfItsIoThread() throws Exception {
    Lines lines = new Lines();
    CountDownLatch unblock = new CountDownLatch(1);
    Map<String, String> threadOfLine = new ConcurrentHashMap<>();
    LineSink sink =
        line -> {
          threadOfLine.put(line, Thread.currentThread().getName());
          if (line.equals("block")) {
            unblock.await();
          }
          lines.accept(line);
        };
    try (LineServer server = LineServer.builder().port(0).ioThreads(2).sink(sink).start();
        Client first = new Client(server);
        Client second = new Client(server);
        Client third = new Client(server)) {
      // Connections are dealt round-robin: the first and third share an I/O thread.
      first.send("hello first\n");
      second.send("hello second\n");
      third.send("hello third\n");
      lines.take(3);
      assertThat(threadOfLine.get("hello first")).isEqualTo(threadOfLine.get("hello third"));
      assertThat(threadOfLine.get("hello first")).isNotEqualTo(threadOfLine.get("hello second"));

      first.send("block\n");
      await().atMost(Duration.ofSeconds(10)).until(() -> threadOfLine.containsKey("block"));
      second.send("other thread\n");
      assertThat(lines.take()).isEqualTo("other thread");
      third.send("same thread\n");
      lines.awaitNothing(300);
      unblock.countDown();
      assertThat(lines.take(2)).containsExactly("block", "same thread");
    }
  }
}
