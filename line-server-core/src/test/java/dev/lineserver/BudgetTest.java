package dev.lineserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lineserver.testing.Client;
import dev.lineserver.testing.Threads;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The sink executor's budget bounds the heap that queued lines really hold: empty lines cost their
 * bookkeeping, and many connections cannot each overshoot it by a read.
 */
final class BudgetTest {
  /** The stated slack: one read per I/O thread, whose lines cost at most 4 bytes each beyond it. */
  private static final long SLACK_PER_IO_THREAD = 4L * 64 * 1024 + 2 * SinkQueueCost.CHUNK;

  private final ExecutorService executor = Executors.newFixedThreadPool(2);

  @AfterEach
  void shutDown() throws InterruptedException {
    executor.shutdownNow();
    assertThat(executor.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    Threads.assertNoServerThreads();
  }

  @Test
  void emptyLines_countAgainstTheBudget_heapStaysBounded() throws Exception {
    long budget = 1024 * 1024;
    CountDownLatch gate = new CountDownLatch(1);
    AtomicLong delivered = new AtomicLong();
    int newlines = 5_500_000;
    int ioThreads = 2;
    long heapBefore = usedHeapAfterGc();
    try (LineServer server =
            LineServer.builder()
                .port(0)
                .ioThreads(ioThreads)
                .sinkExecutor(executor)
                .maxPendingBytes(budget)
                .sink(
                    line -> {
                      gate.await();
                      delivered.incrementAndGet();
                    })
                .start();
        Client client = new Client(server)) {
      Thread writer =
          new Thread(
              () -> {
                try {
                  client.send("\n".repeat(newlines).getBytes(StandardCharsets.US_ASCII));
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              },
              "test-newlines");
      writer.start();
      await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().readsPaused() > 0);
      long pending = server.stats().sinkPendingBytes();
      assertThat(pending).isBetween(budget, budget + ioThreads * SLACK_PER_IO_THREAD);
      // 5.5 million queued empty lines would hold hundreds of megabytes; the budget a few.
      long held = usedHeapAfterGc() - heapBefore;
      assertThat(held).as("heap held by the queue").isLessThan(64L * 1024 * 1024);
      gate.countDown();
      writer.join(TimeUnit.SECONDS.toMillis(60));
      await().atMost(Duration.ofSeconds(60)).until(() -> delivered.get() == newlines);
      assertThat(server.stats().sinkPendingBytes()).isZero();
    } finally {
      gate.countDown();
    }
  }

  @Test
  void manyConnections_overshootTheBudgetByAtMostOneReadPerIoThread() throws Exception {
    long budget = 1024;
    int ioThreads = 2;
    int connections = 200;
    CountDownLatch gate = new CountDownLatch(1);
    AtomicLong delivered = new AtomicLong();
    String line = "x".repeat(99) + "\n";
    int linesEach = 640; // 64 000 bytes a connection
    List<Client> clients = new ArrayList<>();
    try (LineServer server =
        LineServer.builder()
            .port(0)
            .ioThreads(ioThreads)
            .sinkExecutor(executor)
            .maxPendingBytes(budget)
            .sink(
                l -> {
                  gate.await();
                  delivered.incrementAndGet();
                })
            .start()) {
      AtomicLong highest = new AtomicLong();
      byte[] payload = line.repeat(linesEach).getBytes(StandardCharsets.US_ASCII);
      for (int c = 0; c < connections; c++) {
        Client client = new Client(server);
        clients.add(client);
        client.send(payload); // fits the socket buffers: never blocks
        highest.accumulateAndGet(server.stats().sinkPendingBytes(), Math::max);
      }
      await()
          .during(Duration.ofMillis(300))
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> {
                highest.accumulateAndGet(server.stats().sinkPendingBytes(), Math::max);
                return true;
              });
      assertThat(highest.get()).isLessThanOrEqualTo(budget + ioThreads * SLACK_PER_IO_THREAD);
      gate.countDown();
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> {
                highest.accumulateAndGet(server.stats().sinkPendingBytes(), Math::max);
                assertThat(delivered.get()).isEqualTo((long) connections * linesEach);
              });
      // Resuming at half the budget, all at once, must not overshoot either.
      assertThat(highest.get()).isLessThanOrEqualTo(budget + ioThreads * SLACK_PER_IO_THREAD);
    } finally {
      gate.countDown();
      for (Client client : clients) {
        client.close();
      }
    }
  }

  private static long usedHeapAfterGc() {
    Runtime runtime = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return runtime.totalMemory() - runtime.freeMemory();
  }

  /** What a queued chunk costs beyond its bytes, as the budget counts it. */
  private static final class SinkQueueCost {
    static final long CHUNK = 64 + Integer.BYTES;
  }
}
