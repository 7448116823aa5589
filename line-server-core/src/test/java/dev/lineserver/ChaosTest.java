package dev.lineserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lineserver.testing.Client;
import dev.lineserver.testing.Lines;
import dev.lineserver.testing.TestPki;
import dev.lineserver.testing.Threads;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Good clients send numbered lines while others trickle, send oversize lines and bad bytes, and
 * reset mid-line, and the sink fails at random. Runs {@code -Dlineserver.chaos.seconds} (30 by
 * default); the seed is printed and can be set with {@code -Dlineserver.chaos.seed}.
 */
final class ChaosTest {
  private static final int GOOD_CLIENTS = 16;
  private static final int MAX_LINE_LENGTH = 1024;

  private final long seed = Long.getLong("lineserver.chaos.seed", 0xC4A05L);
  private final long seconds = Long.getLong("lineserver.chaos.seconds", 30);
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final List<String> errors = new CopyOnWriteArrayList<>();
  private @Nullable SSLContext clientTls;

  @AfterEach
  void noThreadOutlivesItsServer() {
    Threads.assertNoServerThreads();
  }

  /**
   * A third of the run each: the sink on the I/O threads; on an executor with a small budget; on
   * the I/O threads with every client over TLS.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"io", "executor", "io-tls"})
  void chaos_everyGoodLineOfferedOnceInOrder_countersAddUp_nothingLeaks(String mode)
      throws Exception {
    boolean onExecutor = mode.equals("executor");
    boolean tls = mode.endsWith("tls");
    long seconds = Math.max(1, this.seconds / 3);
    System.out.printf("chaos: seed %d, %d s, %s%n", seed, seconds, mode);
    clientTls = tls ? TestPki.shared().clientContext(null) : null;
    ExecutorService executor = Executors.newFixedThreadPool(3);
    // A first server makes the JDK open what it keeps for good (see LineServer.start()).
    LineServer.Builder warmUp = LineServer.builder().port(0).sink(line -> {});
    if (tls) { // and what TLS opens for good: the handshake's random sources
      warmUp.tls(TestPki.shared().serverContext());
    }
    try (LineServer first = warmUp.start();
        Client client = new Client(connect(first))) {
      client.send("warm\n");
    }
    long fdsBefore = openFileDescriptors();
    Map<Integer, AtomicLong> nextExpected = new ConcurrentHashMap<>();
    AtomicLong sinkCalls = new AtomicLong();
    AtomicLong thrown = new AtomicLong();
    AtomicLong tooLong = new AtomicLong();
    SplittableRandom sinkRandom = new SplittableRandom(seed);
    LineSink sink =
        line -> {
          sinkCalls.incrementAndGet();
          if (line.startsWith("good,")) {
            String[] fields = line.split(",");
            int client = Integer.parseInt(fields[1]);
            long sequence = Long.parseLong(fields[2]);
            long expected =
                nextExpected.computeIfAbsent(client, c -> new AtomicLong()).getAndIncrement();
            if (sequence != expected) {
              errors.add("client " + client + ": expected " + expected + ", got " + sequence);
            }
          }
          boolean fail;
          synchronized (sinkRandom) {
            fail = sinkRandom.nextInt(10_000) == 0;
          }
          if (fail) {
            thrown.incrementAndGet();
            throw new IllegalStateException("chaos");
          }
        };
    LineServerListener listener =
        new LineServerListener() {
          @Override
          public void lineTooLong(ConnectionInfo connection, long length) {
            tooLong.incrementAndGet();
          }

          @Override
          public void sinkFailed(ConnectionInfo connection, String line, Exception error) {}
        };
    LineServer.Builder builder =
        LineServer.builder()
            .port(0)
            .maxLineLength(MAX_LINE_LENGTH)
            .lineTimeout(Duration.ofSeconds(1))
            .restartIntensity(1000, Duration.ofSeconds(1))
            .sink(sink)
            .listener(listener);
    if (onExecutor) {
      builder.sinkExecutor(executor).maxPendingBytes(256 * 1024);
    }
    if (tls) {
      builder.tls(TestPki.shared().serverContext());
    }
    LineServer server = builder.start();
    List<Thread> threads = new ArrayList<>();
    long[] sent = new long[GOOD_CLIENTS];
    try {
      for (int c = 0; c < GOOD_CLIENTS; c++) {
        int client = c;
        threads.add(start("chaos-good-" + c, () -> sent[client] = goodClient(server, client)));
      }
      threads.add(start("chaos-trickle", () -> trickle(server, new SplittableRandom(seed + 1))));
      threads.add(start("chaos-oversize", () -> oversize(server, new SplittableRandom(seed + 2))));
      threads.add(start("chaos-reset", () -> resetMidLine(server, new SplittableRandom(seed + 3))));

      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      while (System.nanoTime() < end && errors.isEmpty()) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
      }
      running.set(false);
      for (Thread thread : threads) {
        thread.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(thread.isAlive()).as(thread.getName()).isFalse();
      }
      await().atMost(Duration.ofSeconds(30)).until(() -> server.stats().connectionsOpen() == 0);
    } finally {
      running.set(false);
      server.close();
      executor.shutdownNow();
    }

    LineServerStats stats = server.stats();
    System.out.println("chaos: " + stats);
    assertThat(errors).isEmpty();
    for (int c = 0; c < GOOD_CLIENTS; c++) {
      assertThat(nextExpected.get(c)).as("client %d", c).hasValue(sent[c]);
    }
    assertThat(stats.lines()).isEqualTo(sinkCalls.get());
    assertThat(stats.sinkFailures()).isEqualTo(thrown.get());
    assertThat(stats.linesTooLong()).isEqualTo(tooLong.get()).isPositive();
    assertThat(stats.connectionsOpen()).isZero();
    long closed = stats.connectionsClosed().values().stream().mapToLong(Long::longValue).sum();
    assertThat(closed + stats.connectionsRefused()).isEqualTo(stats.connectionsAccepted());
    // On an executor behind the flood reading pauses; the clocks stand still meanwhile and go on
    // at resume, so the trickling connections still run out of time.
    assertThat(stats.connectionsClosed().get(CloseReason.LINE_TIMEOUT)).isPositive();
    assertThat(stats.connectionsClosed().get(CloseReason.PEER_RESET)).isPositive();
    assertThat(stats.connectionsClosed().get(CloseReason.RESTART_LIMIT)).isZero();
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(openFileDescriptors()).isLessThanOrEqualTo(fdsBefore));
  }

  @Test
  void close_under100SendingConnections_deliversWhatArrivedOnceInOrder_nothingAfter()
      throws Exception {
    int connections = 100;
    Map<Integer, long[]> progress = new ConcurrentHashMap<>(); // next expected
    AtomicBoolean closeReturned = new AtomicBoolean();
    AtomicLong sinkCalls = new AtomicLong();
    LineSink sink =
        line -> {
          sinkCalls.incrementAndGet();
          if (closeReturned.get()) {
            errors.add("delivered after close() returned: " + line);
          }
          int comma = line.indexOf(',');
          int client = Integer.parseInt(line.substring(0, comma));
          long[] state = progress.computeIfAbsent(client, c -> new long[2]);
          String expected = client + "," + state[0];
          if (line.equals(expected)) {
            state[0]++;
          } else if (expected.startsWith(line)) {
            errors.add("client " + client + ": a fragment delivered as a line: " + line);
          } else {
            errors.add("client " + client + ": expected " + expected + ", got " + line);
          }
        };
    LineServer server =
        LineServer.builder().port(0).shutdownTimeout(Duration.ofSeconds(2)).sink(sink).start();
    List<Thread> senders = new ArrayList<>();
    try {
      for (int c = 0; c < connections; c++) {
        int client = c;
        senders.add(start("close-load-" + c, () -> sendUntilClosed(server, client)));
      }
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> progress.size() == connections && sinkCalls.get() > 100_000);
    } finally {
      server.close();
      closeReturned.set(true);
    }
    for (Thread sender : senders) {
      sender.join(TimeUnit.SECONDS.toMillis(30));
      assertThat(sender.isAlive()).as(sender.getName()).isFalse();
    }
    assertThat(errors).isEmpty();
    LineServerStats stats = server.stats();
    assertThat(stats.lines()).isEqualTo(sinkCalls.get());
    assertThat(stats.connectionsOpen()).isZero();
    assertThat(
            stats.connectionsClosed().get(CloseReason.SHUTDOWN_TIMEOUT)
                + stats.connectionsClosed().get(CloseReason.SERVER_CLOSE))
        .isEqualTo(connections);
  }

  /** Sends numbered lines until the server closes the connection. */
  private void sendUntilClosed(LineServer server, int client) throws IOException {
    try (Client connection = new Client(server)) {
      StringBuilder batch = new StringBuilder();
      long sequence = 0;
      try {
        while (true) {
          batch.setLength(0);
          for (int i = 0; i < 50; i++) {
            batch.append(client).append(',').append(sequence++).append('\n');
          }
          connection.send(batch.toString());
        }
      } catch (IOException closedByTheServer) {
        // Expected: close() ended the connection while it was sending.
      }
    }
  }

  private Thread start(String name, ThrowingRunnable body) {
    Thread thread =
        new Thread(
            () -> {
              try {
                body.run();
              } catch (Exception | AssertionError e) {
                errors.add(name + ": " + e);
              }
            },
            name);
    thread.start();
    return thread;
  }

  private interface ThrowingRunnable {
    void run() throws Exception;
  }

  /** Sends numbered lines in batches until stopped, then half-closes; returns how many. */
  private long goodClient(LineServer server, int client) throws IOException {
    long sequence = 0;
    try (Client connection = new Client(connect(server))) {
      StringBuilder batch = new StringBuilder();
      while (running.get()) {
        batch.setLength(0);
        for (int i = 0; i < 100; i++) {
          batch.append("good,").append(client).append(',').append(sequence++).append('\n');
        }
        connection.send(batch.toString());
      }
      if (clientTls != null) {
        return sequence; // SSLSocket has no half-close: close_notify (at close) ends the stream
      }
      connection.shutdownOutput();
      assertThat(connection.awaitServerClose()).isTrue();
    }
    return sequence;
  }

  /** Keeps connections that send a byte now and then of a line that never ends. */
  private void trickle(LineServer server, SplittableRandom random) throws IOException {
    List<Socket> open = new ArrayList<>();
    try {
      while (running.get()) {
        while (open.size() < 50) {
          open.add(connect(server));
        }
        for (int i = open.size() - 1; i >= 0; i--) {
          try {
            open.get(i).getOutputStream().write('a' + random.nextInt(26));
          } catch (IOException closedByTheLineTimeout) {
            open.remove(i).close();
          }
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
      }
    } finally {
      for (Socket socket : open) {
        socket.close();
      }
    }
  }

  /** Sends lines over the limit, bad UTF-8 and good lines between them on one connection. */
  private void oversize(LineServer server, SplittableRandom random) throws IOException {
    try (Client connection = new Client(connect(server))) {
      while (running.get()) {
        byte[] huge = new byte[MAX_LINE_LENGTH + 1 + random.nextInt(10 * MAX_LINE_LENGTH)];
        for (int i = 0; i < huge.length; i++) {
          huge[i] = (byte) (0x20 + random.nextInt(0x5F));
        }
        connection.send(huge).send("\r\nbad utf-8 \u00e9".getBytes(StandardCharsets.ISO_8859_1));
        connection.send("\nok\n");
      }
      if (clientTls != null) {
        return;
      }
      connection.shutdownOutput();
      connection.awaitServerClose();
    }
  }

  /**
   * Connects, sends part of a line, and resets: bursts of 100 every 50 ms, so that the server and
   * this client, sharing one process's descriptors, stay within its limit.
   */
  private void resetMidLine(LineServer server, SplittableRandom random) throws IOException {
    int burst = clientTls == null ? 100 : 10; // a TLS handshake each: fewer, or they are the load
    while (running.get()) {
      for (int i = 0; i < burst; i++) {
        // The reset goes through the plain socket under any TLS one: no close_notify first.
        try (Socket plain = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
          SSLContext tls = clientTls;
          Socket socket =
              tls == null
                  ? plain
                  : tls.getSocketFactory()
                      .createSocket(plain, "localhost", server.port(), /* autoClose= */ true);
          OutputStream out = socket.getOutputStream();
          out.write(("whole line\npartial " + random.nextInt()).getBytes(StandardCharsets.UTF_8));
          out.flush();
          plain.setSoLinger(true, 0);
        }
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
    }
  }

  /** A loopback connection to {@code server}: plain, or TLS when this run's clients speak it. */
  private Socket connect(LineServer server) throws IOException {
    SSLContext tls = clientTls;
    Socket socket =
        tls == null
            ? new Socket(InetAddress.getLoopbackAddress(), server.port())
            : tls.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), server.port());
    socket.setTcpNoDelay(true);
    socket.setSoTimeout((int) TimeUnit.SECONDS.toMillis(Lines.TIMEOUT_SECONDS));
    return socket;
  }

  private static long openFileDescriptors() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    }
  }
}
