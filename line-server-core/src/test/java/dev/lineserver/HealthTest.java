package dev.lineserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lineserver.testing.Client;
import dev.lineserver.testing.Lines;
import dev.lineserver.testing.LogCapture;
import dev.lineserver.testing.Threads;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class HealthTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(Lines.TIMEOUT_SECONDS);

  private final ExecutorService executor = Executors.newSingleThreadExecutor();

  @AfterEach
  void shutDown() throws InterruptedException {
    executor.shutdownNow();
    assertThat(executor.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    Threads.assertNoServerThreads();
  }

  @Test
  void health_running_healthyWithEveryPart() throws Exception {
    try (LineServer server =
        LineServer.builder().port(0).ioThreads(3).sink(line -> {}).sinkExecutor(executor).start()) {
      LineServerHealth health = server.health();
      assertThat(health.healthy()).isTrue();
      assertThat(health.reasons()).isEmpty();
      assertThat(health.accepting()).isTrue();
      assertThat(health.ioThreads()).isEqualTo(3);
      assertThat(health.ioThreadsAlive()).isEqualTo(3);
      assertThat(health.sinkStalled()).isFalse();
      assertThat(health.sinkWaiting()).isEqualTo(Duration.ZERO);
    }
  }

  @Test
  void health_afterClose_notAccepting() throws Exception {
    LineServer server = LineServer.builder().port(0).ioThreads(1).sink(line -> {}).start();
    server.close();
    LineServerHealth health = server.health();
    assertThat(health.healthy()).isFalse();
    assertThat(health.accepting()).isFalse();
    assertThat(health.ioThreadsAlive()).isZero();
    assertThat(health.reasons()).containsExactly("not accepting: the server is closed");
  }

  @Test
  void health_sinkBlockedWithLinesQueued_unhealthyPastTheBound_healthyOnceReleased()
      throws Exception {
    Duration bound = Duration.ofMillis(300);
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Lines delivered = new Lines();
    LineSink blocking =
        line -> {
          entered.countDown();
          if (!release.await(Lines.TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            throw new IllegalStateException("never released");
          }
          delivered.accept(line);
        };
    try (LineServer server =
            LineServer.builder()
                .name("stall")
                .port(0)
                .ioThreads(1)
                .sink(blocking)
                .sinkExecutor(executor)
                .sinkStallThreshold(bound)
                .start();
        Client client = new Client(server)) {
      client.send("one\n");
      assertThat(entered.await(Lines.TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
      client.send("two\n"); // waits behind the blocked call
      await().atMost(TIMEOUT).until(() -> server.health().sinkStalled());
      LineServerHealth stalled = server.health();
      assertThat(stalled.healthy()).isFalse();
      assertThat(stalled.accepting()).isTrue();
      assertThat(stalled.ioThreadsAlive()).isEqualTo(1);
      assertThat(stalled.sinkWaiting()).isGreaterThan(bound);
      assertThat(stalled.reasons())
          .singleElement()
          .asString()
          .startsWith("sink stalled: lines have waited ")
          .endsWith(" ms with none through (sinkStallThreshold: PT0.3S)");

      release.countDown();
      assertThat(delivered.take(2)).containsExactly("one", "two");
      await().atMost(TIMEOUT).until(() -> server.health().healthy());
      assertThat(server.health().sinkWaiting()).isEqualTo(Duration.ZERO);
    }
  }

  @Test
  void health_linesBeginToWaitAfterAnIdleSpellLongerThanTheBound_notStalledAtOnce()
      throws Exception {
    Duration bound = Duration.ofMillis(500);
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    LineSink blocking =
        line -> {
          entered.countDown();
          release.await(Lines.TIMEOUT_SECONDS, TimeUnit.SECONDS);
        };
    try (LineServer server =
            LineServer.builder()
                .port(0)
                .ioThreads(1)
                .sink(blocking)
                .sinkExecutor(executor)
                .sinkStallThreshold(bound)
                .start();
        Client client = new Client(server)) {
      // Idle for longer than the bound: no line waits, so the sink is not stalled.
      assertThat(new CountDownLatch(1).await(bound.toMillis() + 300, TimeUnit.MILLISECONDS))
          .isFalse();
      assertThat(server.health().healthy()).isTrue();
      client.send("one\n");
      assertThat(entered.await(Lines.TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
      LineServerHealth health = server.health(); // the wait began just now, not at the start
      assertThat(health.sinkStalled()).isFalse();
      assertThat(health.sinkWaiting()).isLessThan(bound);
      release.countDown();
    }
  }

  @Test
  void health_sinkSlowButGoingThrough_linesWaitLongerThanTheBound_notStalled() throws Exception {
    Duration bound = Duration.ofMillis(300);
    CountDownLatch never = new CountDownLatch(1);
    LineSink slow = line -> never.await(40, TimeUnit.MILLISECONDS); // 40 ms a line
    try (LineServer server =
            LineServer.builder()
                .port(0)
                .ioThreads(1)
                .sink(slow)
                .sinkExecutor(executor)
                .sinkStallThreshold(bound)
                .start();
        Client client = new Client(server)) {
      // A line every 25 ms for 4 bounds: lines wait all along, each batch goes through in time.
      long end = System.nanoTime() + 4 * bound.toNanos();
      Duration longestWait = Duration.ZERO;
      for (int i = 0; i < 200 && System.nanoTime() - end < 0; i++) {
        client.send("line\n");
        LineServerHealth health = server.health();
        assertThat(health.sinkStalled()).as("stalled at line %d: %s", i, health).isFalse();
        longestWait =
            health.sinkWaiting().compareTo(longestWait) > 0 ? health.sinkWaiting() : longestWait;
        never.await(25, TimeUnit.MILLISECONDS); // a pace
      }
      assertThat(longestWait).as("lines waited for the sink").isPositive();
      assertThat(server.health().healthy()).isTrue();
    }
  }

  @Test
  void health_ioThreadDied_unhealthyNamingIt_andItsDeathIsLoggedForTheServer() throws Exception {
    try (LogCapture log = new LogCapture();
        LineServer server =
            LineServer.builder()
                .name("doomed")
                .port(0)
                .ioThreads(2)
                .sink(
                    line -> {
                      if (line.equals("die")) {
                        // An error of a failing JVM is the one a sink's thread does not survive.
                        throw new InternalError("test: ends the I/O thread");
                      }
                    })
                .start()) {
      // Round-robin: of two connections, one is on each I/O thread; one dies.
      try (Client first = new Client(server);
          Client second = new Client(server)) {
        first.send("die\n");
        // Awaitility would fail on the I/O thread's uncaught error, which this test means to cause.
        await()
            .dontCatchUncaughtExceptions()
            .atMost(TIMEOUT)
            .until(() -> server.health().ioThreadsAlive() == 1);
        second.send("fine\n");
      }
      LineServerHealth health = server.health();
      assertThat(health.healthy()).isFalse();
      assertThat(health.accepting()).isTrue();
      assertThat(health.ioThreads()).isEqualTo(2);
      assertThat(health.reasons())
          .singleElement()
          .asString()
          .matches("line-server-doomed-io-[12] has died; its connections were closed");
      await()
          .dontCatchUncaughtExceptions()
          .atMost(TIMEOUT)
          .until(
              () ->
                  log.atLeast(Level.SEVERE).stream()
                      .map(LogRecord::getMessage)
                      .anyMatch(
                          m -> m.matches("\\[doomed\\] line-server-doomed-io-[12] died; .*")));
    }
  }
}
