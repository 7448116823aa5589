package dev.lineserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;

/**
 * The drain contract as a property, over seeded random scenarios: the sink on the I/O thread or on
 * an executor; plain, TLS or PROXY connections; sinks that are fast, slow, stalling, throwing,
 * throwing an {@link Error}, setting the interrupt flag or closing the server; senders that end
 * with EOF, go silent or keep sending; close() at a random moment. For every scenario: each
 * connection's lines reach the sink exactly once, in order, as a gap-free prefix of what it sent
 * and never as a fragment; a connection that ended with EOF before the drain's deadline got all of
 * them; nothing reaches the sink after close() returns; the close reasons and {@code stats()} add
 * up; no thread or descriptor is left.
 *
 * <p>Runs about 30 s; {@code -Dlineserver.drain.seconds=600} runs it for minutes, {@code
 * -Dlineserver.drain.seed=N} replays one printed seed.
 */
final class DrainPropertyTest {
  private static final long SECONDS = Long.getLong("lineserver.drain.seconds", 30);
  private static final String PAYLOAD = "-payload-0123456789";

  private enum Mode {
    IO_THREAD,
    EXECUTOR
  }

  private enum Transport {
    PLAIN,
    TLS,
    PROXY
  }

  private enum SinkKind {
    FAST,
    SLOW,
    STALLING,
    THROWING,
    THROWING_ERROR,
    INTERRUPTING,
    CLOSING_SERVER
  }

  private enum Ending {
    EOF,
    SILENT,
    KEEPS_SENDING
  }

  @Test
  void drainContract_holdsForRandomScenarios() throws Exception {
    Long replay = Long.getLong("lineserver.drain.seed");
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
    long fdsBefore = -1; // measured after the first scenario, once TLS and the JDK have warmed up
    int scenarios = 0;
    SplittableRandom seeds = new SplittableRandom();
    do {
      long seed = replay != null ? replay : seeds.nextLong();
      scenarios++;
      try {
        runScenario(seed);
      } catch (Throwable e) {
        throw new AssertionError(
            "scenario failed; replay with -Dlineserver.drain.seed=" + seed + ": " + e, e);
      }
      if (fdsBefore < 0) {
        TestPki.shared().serverContext().createSSLEngine(); // whatever TLS opens, opened now
        fdsBefore = openFileDescriptors();
      }
    } while (replay == null && System.nanoTime() < end);
    System.out.println("drain property: " + scenarios + " scenarios passed");
    long fdsAfterFirst = fdsBefore;
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(openFileDescriptors()).isLessThanOrEqualTo(fdsAfterFirst));
  }

  private void runScenario(long seed) throws Exception {
    SplittableRandom random = new SplittableRandom(seed);
    Mode mode = pick(random, Mode.values());
    Transport transport = pick(random, Transport.values());
    SinkKind kind = pick(random, SinkKind.values());
    int connections = 2 + random.nextInt(6);
    System.out.printf(
        "drain scenario seed=%d: %s %s %s, %d connections%n",
        seed, mode, transport, kind, connections);

    Map<Integer, List<Long>> handed = new ConcurrentHashMap<>();
    Map<Long, Integer> clientOfConnection = new ConcurrentHashMap<>();
    Map<Long, CloseReason> reasons = new ConcurrentHashMap<>();
    List<String> errors = new CopyOnWriteArrayList<>();
    AtomicBoolean closeReturned = new AtomicBoolean();
    AtomicLong sinkCalls = new AtomicLong();
    AtomicReference<LineServer> self = new AtomicReference<>();
    int errorClient = random.nextInt(connections);
    long errorAt = 1 + random.nextInt(2_000);
    long closeAt = 1 + random.nextInt(5_000);
    SplittableRandom sinkRandom = random.split();
    AtomicBoolean stalled = new AtomicBoolean();
    AtomicLong firstClose = new AtomicLong();

    ConnectionLineSink sink =
        (connection, line) -> {
          sinkCalls.incrementAndGet();
          if (closeReturned.get()) {
            errors.add("delivered after close() returned: " + line);
          }
          int client = parseClient(line, errors);
          long sequence = parseSequence(line, errors);
          if (client < 0 || sequence < 0) {
            return;
          }
          clientOfConnection.putIfAbsent(connection.id(), client);
          handed
              .computeIfAbsent(
                  client, c -> java.util.Collections.synchronizedList(new ArrayList<>()))
              .add(sequence);
          switch (kind) {
            case FAST -> {}
            case SLOW -> {
              if (sinkRandom.nextInt(200) == 0) {
                Thread.sleep(1);
              }
            }
            case STALLING -> {
              if (sequence == 100 && stalled.compareAndSet(false, true)) {
                Thread.sleep(300);
              }
            }
            case THROWING -> {
              if (sequence % 97 == 13) {
                throw new IllegalStateException("rejected " + line);
              }
            }
            case THROWING_ERROR -> {
              if (client == errorClient && sequence == errorAt) {
                throw new AssertionError("a sink bug at " + line);
              }
            }
            case INTERRUPTING -> {
              if (sequence % 50 == 0) {
                Thread.currentThread().interrupt();
              }
            }
            case CLOSING_SERVER -> {
              if (client == 0 && sequence == closeAt) {
                firstClose.compareAndSet(0, System.nanoTime());
                self.get().close();
              }
            }
          }
        };
    LineServerListener listener =
        new LineServerListener() {
          @Override
          public void connectionClosed(ConnectionInfo connection, CloseReason reason) {
            if (reasons.put(connection.id(), reason) != null) {
              errors.add("closed twice: " + connection);
            }
          }

          @Override
          public void sinkFailed(ConnectionInfo connection, String line, Exception error) {}

          @Override
          public void sinkError(ConnectionInfo connection, String line, Error error) {}

          @Override
          public void restartLimitReached(
              ConnectionInfo connection, int maxRestarts, Duration period) {}
        };

    ExecutorService executor = Executors.newFixedThreadPool(3);
    Duration shutdownTimeout = Duration.ofMillis(500 + random.nextInt(1_500));
    LineServer.Builder builder =
        LineServer.builder()
            .port(0)
            .ioThreads(1 + random.nextInt(2))
            .shutdownTimeout(shutdownTimeout)
            .restartIntensity(1_000, Duration.ofMillis(1))
            .connectionSink(sink)
            .listener(listener);
    if (mode == Mode.EXECUTOR) {
      builder.sinkExecutor(executor).maxPendingBytes(1024 + random.nextInt(256 * 1024));
    }
    SSLContext clientContext = null;
    if (transport == Transport.TLS) {
      builder.tls(TestPki.shared().serverContext());
      clientContext = TestPki.shared().clientContext(null);
    } else if (transport == Transport.PROXY) {
      builder.proxyProtocol(ProxyProtocol.REQUIRED);
    }
    LineServer server = builder.start();
    self.set(server);

    List<Thread> senders = new ArrayList<>();
    long[] sent = new long[connections];
    java.util.concurrent.atomic.AtomicInteger doneSending =
        new java.util.concurrent.atomic.AtomicInteger();
    Ending[] endings = new Ending[connections];
    AtomicBoolean closing = new AtomicBoolean();
    for (int c = 0; c < connections; c++) {
      int client = c;
      endings[c] = pick(random, Ending.values());
      long lines = 500 + random.nextInt(20_000);
      SplittableRandom chunking = random.split();
      SSLContext context = clientContext;
      Thread sender =
          new Thread(
              () -> {
                try {
                  send(
                      server,
                      context,
                      transport,
                      client,
                      lines,
                      endings[client],
                      chunking,
                      sent,
                      doneSending,
                      closing);
                } catch (IOException expected) {
                  // the server closed the connection while it was sending
                } catch (Exception e) {
                  errors.add("sender " + client + ": " + e);
                }
              },
              "drain-sender-" + c);
      senders.add(sender);
      sender.start();
    }
    // Close once some lines went through, or let the sink close it.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> sinkCalls.get() > 200 + closeAt || doneSending.get() == connections);
    closing.set(true);
    long closeStart = System.nanoTime();
    firstClose.compareAndSet(0, closeStart);
    server.close();
    closeReturned.set(true);
    long returned = System.nanoTime();
    long closeMillis = TimeUnit.NANOSECONDS.toMillis(returned - closeStart);
    long drainMillis = TimeUnit.NANOSECONDS.toMillis(returned - firstClose.get());
    for (Thread sender : senders) {
      sender.join(TimeUnit.SECONDS.toMillis(30));
      assertThat(sender.isAlive()).as(sender.getName()).isFalse();
    }
    executor.shutdownNow();
    assertThat(executor.awaitTermination(10, TimeUnit.SECONDS)).isTrue();

    assertThat(errors).isEmpty();
    Threads.assertNoServerThreads();
    assertThat(closeMillis)
        .as("close() bounded by the shutdown timeout and its two seconds of grace")
        .isLessThan(shutdownTimeout.toMillis() + 2_500);
    Map<Integer, CloseReason> reasonOfClient = new ConcurrentHashMap<>();
    reasons.forEach(
        (id, reason) -> {
          Integer client = clientOfConnection.get(id);
          if (client != null) {
            reasonOfClient.put(client, reason);
          }
        });
    for (int c = 0; c < connections; c++) {
      List<Long> got = handed.getOrDefault(c, List.of());
      for (int i = 0; i < got.size(); i++) {
        assertThat(got.get(i)).as("client %d, line %d of %d", c, i, got.size()).isEqualTo(i);
      }
      assertThat((long) got.size())
          .as("client %d: no more than it sent", c)
          .isLessThanOrEqualTo(sent[c]);
      CloseReason reason = reasonOfClient.get(c);
      if (reason == CloseReason.PEER_EOF || reason == CloseReason.SERVER_CLOSE) {
        // It ended, or was quiet with nothing unended: everything it sent was delivered.
        assertThat((long) got.size()).as("client %d closed %s", c, reason).isEqualTo(sent[c]);
      }
      if (reason == CloseReason.SHUTDOWN_TIMEOUT) {
        assertThat(drainMillis)
            .as("client %d cut before the deadline", c)
            .isGreaterThanOrEqualTo(shutdownTimeout.toMillis());
      }
      if (endings[c] == Ending.SILENT && reason != null) {
        assertThat(reason)
            .as("client %d went silent mid-line", c)
            .isIn(CloseReason.SHUTDOWN_TIMEOUT, CloseReason.SERVER_ERROR);
      }
    }
    LineServerStats stats = server.stats();
    assertThat(stats.lines()).isEqualTo(sinkCalls.get());
    assertThat(stats.connectionsOpen()).isZero();
    assertThat(stats.sinkPendingBytes()).isZero();
    long closed = stats.connectionsClosed().values().stream().mapToLong(Long::longValue).sum();
    assertThat(closed + stats.connectionsRefused()).isEqualTo(stats.connectionsAccepted());
    // A sender that connects after the close began is refused by the kernel, not accepted.
    assertThat(stats.connectionsAccepted()).isLessThanOrEqualTo(connections);
  }

  private static void send(
      LineServer server,
      SSLContext tls,
      Transport transport,
      int client,
      long lines,
      Ending ending,
      SplittableRandom chunking,
      long[] sent,
      java.util.concurrent.atomic.AtomicInteger doneSending,
      AtomicBoolean closing)
      throws IOException, InterruptedException {
    Socket socket =
        tls != null
            ? tls.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), server.port())
            : new Socket(InetAddress.getLoopbackAddress(), server.port());
    try (socket) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      if (transport == Transport.PROXY) {
        out.write(
            ("PROXY TCP4 192.0.2." + (client + 1) + " 127.0.0.1 4000" + client + " 9000\r\n")
                .getBytes(StandardCharsets.US_ASCII));
      }
      StringBuilder batch = new StringBuilder();
      long limit = ending == Ending.KEEPS_SENDING ? lines * 20 : lines;
      for (long i = 0; i < limit; i++) {
        batch.append(client).append(',').append(i).append(PAYLOAD).append('\n');
        if (batch.length() > 1 + chunking.nextInt(16_384) || i == limit - 1) {
          writeSplit(out, batch.toString().getBytes(StandardCharsets.US_ASCII), chunking);
          sent[client] = i + 1;
          batch.setLength(0);
        }
        if (ending == Ending.KEEPS_SENDING && i >= lines && closing.get()) {
          break;
        }
      }
      doneSending.incrementAndGet();
      if (ending == Ending.SILENT || ending == Ending.KEEPS_SENDING) {
        // Half a line, then silence: close() must cut it, never deliver it.
        out.write((client + ",").getBytes(StandardCharsets.US_ASCII));
        out.flush();
      } else if (tls == null) {
        socket.shutdownOutput();
      } else {
        out.flush(); // SSLSocket has no half-close: close_notify ends the stream
      }
      if (ending == Ending.EOF && tls != null) {
        socket.close();
        return;
      }
      // Waits for the server to close the connection.
      while (socket.getInputStream().read() >= 0) {}
    }
  }

  /** Writes {@code bytes} in random pieces, so lines split anywhere. */
  private static void writeSplit(OutputStream out, byte[] bytes, SplittableRandom random)
      throws IOException {
    int at = 0;
    while (at < bytes.length) {
      int piece = Math.min(bytes.length - at, 1 + random.nextInt(4_096));
      out.write(bytes, at, piece);
      at += piece;
    }
    out.flush();
  }

  private static int parseClient(String line, List<String> errors) {
    int comma = line.indexOf(',');
    if (comma <= 0 || !line.endsWith(PAYLOAD)) {
      errors.add("a fragment or garbage delivered: " + line);
      return -1;
    }
    return Integer.parseInt(line.substring(0, comma));
  }

  private static long parseSequence(String line, List<String> errors) {
    int comma = line.indexOf(',');
    String digits = line.substring(comma + 1, line.length() - PAYLOAD.length());
    try {
      return Long.parseLong(digits);
    } catch (NumberFormatException e) {
      errors.add("a fragment delivered: " + line);
      return -1;
    }
  }

  private static <T> T pick(SplittableRandom random, T[] values) {
    return values[random.nextInt(values.length)];
  }

  private static long openFileDescriptors() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    }
  }
}
