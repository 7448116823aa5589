package dev.lineserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;

import dev.lineserver.testing.Client;
import dev.lineserver.testing.Lines;
import dev.lineserver.testing.LogCapture;
import dev.lineserver.testing.Threads;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class LineServerLifecycleTest {
  private final Lines lines = new Lines();

  @AfterEach
  void noThreadOutlivesItsServer() {
    await().atMost(Duration.ofSeconds(10)).untilAsserted(Threads::assertNoServerThreads);
  }

  @Test
  void start_portZero_bindsAnEphemeralPortAndReportsIt() throws Exception {
    try (LineServer server =
        LineServer.builder()
            .port(0)
            .bindAddress(InetAddress.getLoopbackAddress())
            .sink(lines)
            .start()) {
      assertThat(server.port()).isBetween(1, 65535);
      assertThat(server.localAddress())
          .isEqualTo(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()));
      try (Client client = new Client(server)) {
        client.send("hello\n");
        assertThat(lines.take()).isEqualTo("hello");
      }
    }
  }

  @Test
  void start_portInUse_throwsBindExceptionNamingTheAddress() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      int port = taken.getLocalPort();
      assertThatThrownBy(() -> LineServer.builder().port(port).sink(lines).start())
          .isInstanceOf(BindException.class)
          .hasMessageContaining(":" + port);
    }
  }

  @Test
  void threads_namedAndNotDaemon_whileRunning() throws Exception {
    try (LineServer server = LineServer.builder().port(0).ioThreads(3).sink(lines).start()) {
      assertThat(Threads.serverThreads())
          .containsExactly(
              "line-server-accept", "line-server-io-1", "line-server-io-2", "line-server-io-3");
      for (Thread thread : Thread.getAllStackTraces().keySet()) {
        if (thread.getName().startsWith("line-server-")) {
          assertThat(thread.isDaemon()).as(thread.getName()).isFalse();
        }
      }
      assertThat(server.toString()).contains(String.valueOf(server.port()));
    }
  }

  @Test
  void close_releasesThePortAndEveryThread() throws Exception {
    LineServer server = LineServer.builder().port(0).sink(lines).start();
    int port = server.port();
    Client idle = new Client(server);
    server.close();

    Threads.assertNoServerThreads();
    assertThat(idle.awaitServerClose()).isTrue();
    idle.close();
    try (ServerSocket again = new ServerSocket()) {
      again.setReuseAddress(true);
      again.bind(new InetSocketAddress(port));
      assertThat(again.getLocalPort()).isEqualTo(port);
    }
  }

  @Test
  void close_drainsEveryLineSentBeforeIt_quietConnectionEndsWithServerClose() throws Exception {
    int count = 20_000;
    LineServerListener listener = mock(LineServerListener.class);
    LineServer server =
        LineServer.builder()
            .port(0)
            .sink(lines)
            .listener(listener)
            .shutdownTimeout(Duration.ofSeconds(30))
            .start();
    try (Client client = new Client(server)) {
      client.send(numbered(count));
      long start = System.nanoTime();
      server.close(); // the client stays connected and idle
      long closeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

      List<String> received = lines.remaining();
      assertThat(received).hasSize(count);
      for (int i = 0; i < count; i++) {
        assertThat(received.get(i)).isEqualTo("position-" + i);
      }
      // An idle connection must not hold close() until the 30 s shutdown timeout.
      assertThat(closeMillis).isLessThan(5_000);
      verify(listener).connectionClosed(any(), eq(CloseReason.SERVER_CLOSE));
      assertThat(server.stats().partialLinesDropped()).isZero();
      assertThat(client.awaitServerClose()).isTrue();
    }
  }

  @Test
  void close_anUnendedTail_isNeverDeliveredAsALine_butCutAtTheTimeoutAndCounted() throws Exception {
    int count = 20_000;
    LineServerListener listener = mock(LineServerListener.class);
    LineServer server =
        LineServer.builder()
            .port(0)
            .sink(lines)
            .listener(listener)
            .shutdownTimeout(Duration.ofMillis(700))
            .start();
    try (Client client = new Client(server)) {
      client.send(numbered(count) + "unterminated tail");
      server.close(); // the client stays connected, its last line unended

      List<String> received = lines.remaining();
      assertThat(received).hasSize(count);
      assertThat(received.get(count - 1)).isEqualTo("position-" + (count - 1));
      verify(listener).connectionClosed(any(), eq(CloseReason.SHUTDOWN_TIMEOUT));
      assertThat(server.stats().partialLinesDropped()).isEqualTo(1);
      assertThat(server.stats().lines()).isEqualTo(count);
      assertThat(client.awaitServerClose()).isTrue();
    }
  }

  @Test
  void close_aPeerThatEndsItsTailWithEofDuringTheDrain_getsItDelivered() throws Exception {
    LineServerListener listener = mock(LineServerListener.class);
    CountDownLatch inSink = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    LineServer server =
        LineServer.builder()
            .port(0)
            .sink(
                line -> {
                  if (line.equals("first")) {
                    inSink.countDown();
                    release.await();
                  }
                  lines.accept(line);
                })
            .listener(listener)
            .shutdownTimeout(Duration.ofSeconds(30))
            .start();
    try (Client client = new Client(server)) {
      client.send("first\nthe tail");
      assertThat(inSink.await(Lines.TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
      Thread closer = new Thread(server::close, "test-closer");
      closer.start();
      client.shutdownOutput(); // EOF ends the tail while the I/O thread is still in the sink
      release.countDown();
      closer.join(TimeUnit.SECONDS.toMillis(Lines.TIMEOUT_SECONDS));
      assertThat(closer.isAlive()).isFalse();
      assertThat(lines.remaining()).containsExactly("first", "the tail");
      verify(listener).connectionClosed(any(), eq(CloseReason.PEER_EOF));
    }
  }

  private static String numbered(int count) {
    StringBuilder all = new StringBuilder();
    for (int i = 0; i < count; i++) {
      all.append("position-").append(i).append('\n');
    }
    return all.toString();
  }

  @Test
  void close_rightAfterConnectionsArrive_drainsThoseStillWaitingToBeAccepted() throws Exception {
    LineServer server = LineServer.builder().port(0).ioThreads(1).sink(lines).start();
    List<Client> clients = new ArrayList<>();
    List<String> sent = new ArrayList<>();
    try {
      // Some of these are likely still in the kernel's accept backlog when close() begins.
      for (int i = 0; i < 50; i++) {
        clients.add(new Client(server).send("line " + i + "\n"));
        sent.add("line " + i);
      }
      server.close();
      assertThat(lines.remaining()).containsExactlyInAnyOrderElementsOf(sent);
    } finally {
      for (Client client : clients) {
        client.close();
      }
    }
  }

  @Test
  void close_peerThatKeepsSending_endsAtTheShutdownTimeout() throws Exception {
    LineServerListener listener = mock(LineServerListener.class);
    LineServer server =
        LineServer.builder()
            .port(0)
            .sink(lines)
            .listener(listener)
            .shutdownTimeout(Duration.ofMillis(500))
            .start();
    AtomicReference<Exception> writerStopped = new AtomicReference<>();
    Client client = new Client(server);
    Thread writer =
        new Thread(
            () -> {
              try {
                while (true) {
                  client.send("more\n");
                }
              } catch (Exception e) {
                writerStopped.set(e);
              }
            },
            "test-writer");
    writer.start();
    try {
      assertThat(lines.take()).isEqualTo("more");
      server.close();
      verify(listener).connectionClosed(any(), eq(CloseReason.SHUTDOWN_TIMEOUT));
      writer.join(TimeUnit.SECONDS.toMillis(Lines.TIMEOUT_SECONDS));
      assertThat(writer.isAlive()).isFalse();
      assertThat(writerStopped.get()).isNotNull();
    } finally {
      client.close();
    }
  }

  @Test
  void close_twiceAndFromInsideASink_isSafe() throws Exception {
    AtomicReference<LineServer> self = new AtomicReference<>();
    CountDownLatch closedFromSink = new CountDownLatch(1);
    LineServer server =
        LineServer.builder()
            .port(0)
            .sink(
                line -> {
                  self.get().close();
                  self.get().close();
                  closedFromSink.countDown();
                })
            .start();
    self.set(server);
    try (Client client = new Client(server)) {
      client.send("stop\n");
      assertThat(closedFromSink.await(Lines.TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
      assertThat(client.awaitServerClose()).isTrue();
    }
    server.close(); // waits for the shutdown the sink started
    Threads.assertNoServerThreads();
    server.close();
  }

  @Test
  void close_concurrentCallers_allReturnAfterTheServerClosed() throws Exception {
    LineServer server = LineServer.builder().port(0).sink(lines).start();
    List<Thread> closers = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Thread closer = new Thread(server::close, "test-closer-" + i);
      closers.add(closer);
      closer.start();
    }
    for (Thread closer : closers) {
      closer.join(TimeUnit.SECONDS.toMillis(Lines.TIMEOUT_SECONDS));
      assertThat(closer.isAlive()).isFalse();
    }
    Threads.assertNoServerThreads();
  }

  @Test
  void builder_badValues_failAtOnceNamingValueAndRange() {
    LineServer.Builder builder = LineServer.builder();
    assertThatThrownBy(() -> builder.port(70000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port: 70000 (expected: 0..65535)");
    assertThatThrownBy(() -> builder.port(-1)).hasMessage("port: -1 (expected: 0..65535)");
    assertThatThrownBy(() -> builder.maxLineLength(0))
        .hasMessage("maxLineLength: 0 (expected: 1..2147483639)");
    assertThatThrownBy(() -> builder.delimiter(256))
        .hasMessage("delimiter: 256 (expected: 0..255)");
    assertThatThrownBy(() -> builder.delimiter(-1)).hasMessage("delimiter: -1 (expected: 0..255)");
    assertThatThrownBy(() -> builder.ioThreads(0)).hasMessage("ioThreads: 0 (expected: 1..1024)");
    assertThatThrownBy(() -> builder.backlog(0)).hasMessage("backlog: 0 (expected: 1..65535)");
    assertThatThrownBy(() -> builder.restartIntensity(-1, Duration.ofSeconds(5)))
        .hasMessage("maxRestarts: -1 (expected: 0..1000)");
    assertThatThrownBy(() -> builder.restartIntensity(3, Duration.ZERO))
        .hasMessage("period: PT0S (expected: PT0.001S..PT24H)");
    assertThatThrownBy(() -> builder.shutdownTimeout(Duration.ofSeconds(-1)))
        .hasMessage("shutdownTimeout: PT-1S (expected: PT0S..PT1H)");
    assertThatThrownBy(() -> builder.sink(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("sink");
  }

  @Test
  void builder_noSink_failsAtStart() {
    assertThatThrownBy(() -> LineServer.builder().port(0).start())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("sink: not set");
  }

  @Test
  void builder_secondSink_isRefused() {
    LineServer.Builder builder = LineServer.builder().sink(lines);
    assertThatThrownBy(() -> builder.connectionSink((connection, line) -> {}))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("sink: already set");
  }

  @Test
  void builder_aBadSettingLeavesTheOthers() throws Exception {
    LineServer.Builder builder = LineServer.builder().port(0).maxLineLength(8).sink(lines);
    assertThatThrownBy(() -> builder.maxLineLength(-5))
        .isInstanceOf(IllegalArgumentException.class);
    try (LineServer server = builder.start();
        Client client = new Client(server)) {
      client.send("12345678\n123456789\nok\n");
      assertThat(lines.take(2)).containsExactly("12345678", "ok");
    }
  }

  @Test
  void listener_thatThrows_isLoggedAndIgnored() throws Exception {
    LineServerListener throwing =
        new LineServerListener() {
          @Override
          public void connectionOpened(ConnectionInfo connection) {
            throw new IllegalStateException("listener bug");
          }
        };
    try (LineServer server = LineServer.builder().port(0).sink(lines).listener(throwing).start();
        Client client = new Client(server)) {
      client.send("delivered anyway\n");
      assertThat(lines.take()).isEqualTo("delivered anyway");
    }
  }

  @Test
  void defaultListener_logsEachProblemOnceAtWarning_andAResetQuietly() throws Exception {
    LogCapture log = new LogCapture();
    try (LineServer server = LineServer.builder().port(0).maxLineLength(2).sink(lines).start()) {
      try (Client client = new Client(server)) {
        client.send("toolong\nok\n");
        assertThat(lines.take()).isEqualTo("ok");
        await()
            .atMost(Duration.ofSeconds(10))
            .untilAsserted(
                () ->
                    assertThat(log.atLeast(Level.WARNING))
                        .singleElement()
                        .satisfies(r -> assertThat(r.getMessage()).contains("7 bytes")));
      }
      Client resetting = new Client(server);
      resetting.send("half a li");
      resetting.reset();
      try (Client after = new Client(server)) {
        after.send("n\n");
        assertThat(lines.take()).isEqualTo("n");
      }
    } finally {
      log.close();
    }
    assertThat(log.atLeast(Level.WARNING)).hasSize(1);
  }

  @Test
  void defaultListener_aFloodOfSinkFailures_logsAtMostOnceASecond_withTheStackTrace()
      throws Exception {
    LogCapture log = new LogCapture();
    LineSink rejecting =
        line -> {
          throw new IllegalArgumentException("bad position: " + line);
        };
    long started = System.nanoTime();
    try (LineServer server =
            LineServer.builder()
                .port(0)
                .restartIntensity(1000, Duration.ofMinutes(1))
                .sink(rejecting)
                .start();
        Client client = new Client(server)) {
      client.send("bad\n".repeat(200));
      await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().sinkFailures() == 200);
    } finally {
      log.close();
    }
    long seconds = 1 + TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
    List<java.util.logging.LogRecord> failures =
        log.atLeast(Level.WARNING).stream()
            .filter(r -> r.getMessage().startsWith("sink failed on"))
            .toList();
    assertThat(failures).hasSizeLessThanOrEqualTo((int) seconds + 1);
    assertThat(failures).allSatisfy(r -> assertThat(r.getThrown()).isNotNull());
  }
}
