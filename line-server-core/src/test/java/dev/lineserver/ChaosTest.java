package dev.lineserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lineserver.testing.Client;
import dev.lineserver.testing.Lines;
import dev.lineserver.testing.TestPki;
import dev.lineserver.testing.Threads;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
 * reset mid-line, and the sink fails at random. Meanwhile the sink replies to some clients' lines
 * (one line, a burst, an empty send, a close or a closeNow), a dispatcher thread sends numbered
 * lines to any open connection, and those clients read at once, slowly or only late, through a
 * small send queue: each stream of sends arrives in order, nothing that was not queued arrives, and
 * an orderly close loses none of it. Runs {@code -Dlineserver.chaos.seconds} (30 by default); the
 * seed is printed and can be set with {@code -Dlineserver.chaos.seed}.
 */
final class ChaosTest {
  private static final int GOOD_CLIENTS = 16;
  private static final int MAX_LINE_LENGTH = 1024;
  private static final int REPLY_CLIENTS = 4;
  private static final int MAX_SEND_QUEUE_BYTES = 8 * 1024;

  /** The closes after which every queued send must have reached the peer (but after closeNow). */
  private static final Set<CloseReason> ORDERLY =
      EnumSet.of(CloseReason.PEER_EOF, CloseReason.SERVER_CLOSE, CloseReason.APPLICATION_CLOSE);

  private final long seed = Long.getLong("lineserver.chaos.seed", 0xC4A05L);
  private final long seconds = Long.getLong("lineserver.chaos.seconds", 30);
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final List<String> errors = new CopyOnWriteArrayList<>();
  private @Nullable SSLContext clientTls;

  // The sends, by connection id: what the sink and the dispatcher queued, and how each one ended.
  private final Map<Long, Sends> sends = new ConcurrentHashMap<>();
  private final Map<Long, CloseReason> closedReasons = new ConcurrentHashMap<>();
  private final Map<Long, Long> idByKey = new ConcurrentHashMap<>(); // a reply client's, at hello
  private final Map<Long, Received> receivedByKey = new ConcurrentHashMap<>();
  private final Map<Long, CompletableFuture<Void>> closedByKey = new ConcurrentHashMap<>();
  private final AtomicLong queuedBytes = new AtomicLong();
  private final AtomicLong fullResults = new AtomicLong();
  private final AtomicLong receivedBytes = new AtomicLong();

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
  void chaos_everyGoodLineOfferedOnceInOrder_repliesInOrder_countersAddUp_nothingLeaks(String mode)
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
    ConnectionLineSink sink =
        (connection, line) -> {
          sinkCalls.incrementAndGet();
          if (line.startsWith("hello,")) {
            long key = Long.parseLong(line.substring("hello,".length()));
            sends(connection.id()).key = key;
            idByKey.put(key, connection.id());
            return; // never fails: it names the connection
          }
          if (line.startsWith("reply,") || line.startsWith("end,")) {
            SplittableRandom random;
            synchronized (sinkRandom) {
              random = sinkRandom.split();
            }
            reply(connection, line.startsWith("end,"), random);
          } else if (line.startsWith("good,")) {
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

          @Override
          public void sendQueueFull(ConnectionInfo connection, int queuedBytes) {}

          @Override
          public void connectionClosed(ConnectionInfo connection, CloseReason reason) {
            if (closedReasons.put(connection.id(), reason) != null) {
              errors.add("connection " + connection.id() + " closed twice");
            }
            Sends of = sends.get(connection.id());
            CompletableFuture<Void> closed = of == null ? null : closedByKey.get(of.key);
            if (closed != null) {
              closed.complete(null);
            }
          }
        };
    LineServer.Builder builder =
        LineServer.builder()
            .port(0)
            .maxLineLength(MAX_LINE_LENGTH)
            .lineTimeout(Duration.ofSeconds(1))
            .restartIntensity(1000, Duration.ofSeconds(1))
            .shutdownTimeout(Duration.ofMillis(1500))
            .maxSendQueueBytes(MAX_SEND_QUEUE_BYTES)
            // On an executor the full queue refuses; else it closes the slow reader.
            .sendQueueFull(onExecutor ? SendQueueFull.REFUSE : SendQueueFull.CLOSE)
            .connectionSink(sink)
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
      // Over TLS every connection is a handshake: fewer, and a slower dispatcher, or they are the
      // load.
      for (int c = 0; c < (tls ? REPLY_CLIENTS / 2 : REPLY_CLIENTS); c++) {
        int client = c;
        SplittableRandom random = new SplittableRandom(seed + 10 + c);
        threads.add(start("chaos-reply-" + c, () -> replyClient(server, client, random)));
      }
      threads.add(
          start("chaos-dispatcher", () -> dispatcher(server, new SplittableRandom(seed + 4))));

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
    assertRepliesArrived();
    assertThat(stats.sendsRefused()).as("sendsRefused").isEqualTo(fullResults.get());
    if (tls) { // TLS adds its records' framing and the handshakes
      assertThat(stats.bytesSent() + stats.sendBytesDropped())
          .as("bytesSent + sendBytesDropped")
          .isGreaterThanOrEqualTo(queuedBytes.get());
    } else {
      assertThat(stats.bytesSent() + stats.sendBytesDropped())
          .as("bytesSent + sendBytesDropped")
          .isEqualTo(queuedBytes.get());
      assertThat(receivedBytes.get())
          .as("bytes the reply clients read")
          .isLessThanOrEqualTo(stats.bytesSent());
    }
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
      drain(connection.socket); // what the dispatcher sent it, then the server's close
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
      drain(connection.socket);
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

  /** What the sink and the dispatcher queued for one connection, by stream, in order. */
  private static final class Sends {
    volatile long key = -1; // the reply client's, from its hello line
    final AtomicLong sinkSequence = new AtomicLong();
    final List<Long> sink = Collections.synchronizedList(new ArrayList<>());
    long dispatcherSequence; // the dispatcher's thread's
    final List<Long> dispatcher = Collections.synchronizedList(new ArrayList<>());
    volatile boolean closedNow;
  }

  /** What one reply client read, by stream, in order. */
  private static final class Received {
    final String reading;
    final List<Long> sink = new ArrayList<>();
    final List<Long> dispatcher = new ArrayList<>();
    @Nullable String failure; // how reading ended, if not at EOF

    Received(String reading) {
      this.reading = reading;
    }
  }

  private Sends sends(long id) {
    return sends.computeIfAbsent(id, i -> new Sends());
  }

  /** A numbered send as recorded: its number and its padding's length. */
  private static long numbered(long sequence, int padding) {
    return sequence << 16 | padding;
  }

  /**
   * Sends the line {@code r17} or {@code d17} (sink or dispatcher), maybe padded ({@code r17,xxx}),
   * through one of the ways to send, and records what came of it.
   */
  private void sendNumbered(
      ConnectionInfo connection,
      char stream,
      long sequence,
      int padding,
      List<Long> queued,
      int way) {
    String text = stream + Long.toString(sequence) + (padding > 0 ? "," + "x".repeat(padding) : "");
    byte[] line = (text + "\n").getBytes(StandardCharsets.ISO_8859_1);
    SendResult result =
        switch (way % 5) {
          case 0 -> connection.sendLine(text);
          case 1 -> connection.send(text + "\n");
          case 2 -> connection.send(line);
          case 3 -> {
            byte[] framed = new byte[line.length + 3];
            System.arraycopy(line, 0, framed, 1, line.length);
            yield connection.send(framed, 1, line.length);
          }
          default -> {
            byte[] framed = new byte[line.length + 2];
            System.arraycopy(line, 0, framed, 2, line.length);
            yield connection.send(ByteBuffer.wrap(framed, 2, line.length));
          }
        };
    record(result, line.length);
    if (result == SendResult.QUEUED) {
      queued.add(numbered(sequence, padding));
    }
  }

  private void record(SendResult result, int length) {
    if (result == SendResult.QUEUED) {
      queuedBytes.addAndGet(length);
    } else if (result == SendResult.FULL) {
      fullResults.incrementAndGet();
    }
  }

  /**
   * The sink's answer to a reply client's line: mostly nothing or one line, sometimes a burst, an
   * empty send, a close or a closeNow; at its last line ({@code end}) a close, a closeNow or (but
   * over TLS, which has no half-close) nothing: its peer's EOF follows.
   */
  private void reply(ConnectionInfo connection, boolean end, SplittableRandom random) {
    Sends of = sends(connection.id());
    int action = random.nextInt(100);
    int lines = action < 45 ? 0 : action < 85 ? 1 : action < 92 ? random.nextInt(5, 40) : 0;
    if (end) {
      lines = random.nextInt(3);
    }
    boolean burst = lines > 1;
    for (int i = 0; i < lines; i++) {
      // Bursts are long: they fill the send queues of the peers that read late.
      int padding = burst || random.nextInt(4) == 0 ? random.nextInt(1, 1000) : 0;
      sendNumbered(
          connection, 'r', of.sinkSequence.getAndIncrement(), padding, of.sink, random.nextInt(5));
    }
    if (!end && action >= 92 && action < 95) {
      record(connection.send(new byte[0]), 0);
    }
    boolean close =
        end ? random.nextInt(6) < (clientTls == null ? 2 : 4) : action >= 95 && action < 98;
    boolean closeNow = end ? !close && (clientTls != null || random.nextInt(4) == 0) : action >= 98;
    if (close) {
      connection.close();
    } else if (closeNow) {
      of.closedNow = true;
      connection.closeNow();
    }
  }

  /** Sends numbered lines to open connections, picked at random, until stopped. */
  private void dispatcher(LineServer server, SplittableRandom random) {
    while (running.get()) {
      List<ConnectionInfo> open = server.connections();
      if (open.isEmpty()) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        continue;
      }
      ConnectionInfo connection = open.get(random.nextInt(open.size()));
      if (random.nextInt(4) == 0) {
        ConnectionInfo found = server.connection(connection.id());
        if (found != null && found.id() != connection.id()) {
          errors.add("connection(" + connection.id() + ") found " + found.id());
        }
        connection = found == null ? connection : found; // closed since: its sends are refused
      }
      Sends of = sends(connection.id());
      // The other clients read only at their end: a few sends each, or they fill up.
      // Over TLS, which has no half-close, they close with unread bytes: a reset, and lost lines.
      boolean other = of.key < 0;
      int count =
          other && (clientTls != null || random.nextInt(20) != 0) ? 0 : random.nextInt(1, 4);
      for (int i = count; i > 0; i--) {
        int padding = random.nextInt(4) == 0 ? random.nextInt(1, 200) : 0;
        sendNumbered(
            connection, 'd', of.dispatcherSequence++, padding, of.dispatcher, random.nextInt(5));
      }
      if (random.nextInt(50) == 0) {
        record(connection.send(""), 0);
      }
      LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(clientTls == null ? 100 : 1000));
    }
  }

  /**
   * One connection after another: a hello naming it, numbered lines and a last one at once, then
   * (in plaintext) a half-close; then reads what it is sent at once, slowly, or only once it is
   * closed (or after 500 ms), through a small receive window.
   */
  private void replyClient(LineServer server, int client, SplittableRandom random)
      throws IOException {
    for (long n = 0; running.get(); n++) {
      long key = client * 1_000_000_000L + n;
      String reading = List.of("all", "slow", "late").get(random.nextInt(3));
      Received received = new Received(reading);
      receivedByKey.put(key, received);
      CompletableFuture<Void> closed = new CompletableFuture<>();
      closedByKey.put(key, closed);
      StringBuilder lines = new StringBuilder().append("hello,").append(key).append('\n');
      for (int i = random.nextInt(1, 150); i > 0; i--) {
        lines.append("reply,").append(key).append(',').append(i).append('\n');
      }
      lines.append("end,").append(key).append('\n');
      try (Socket socket = connect(server, reading.equals("late") ? 4096 : 0)) {
        OutputStream out = socket.getOutputStream();
        out.write(lines.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
        if (clientTls == null) {
          socket.shutdownOutput();
        }
        if (reading.equals("late")) {
          try {
            closed.get(500, TimeUnit.MILLISECONDS);
          } catch (TimeoutException | ExecutionException e) {
            // reads now anyway: the server waits for it
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
        readReplies(
            socket.getInputStream(), reading.equals("slow") ? random.split() : null, received);
      }
    }
  }

  /**
   * Reads numbered lines until EOF, in reads of at most 512 bytes a while apart if {@code slow}.
   */
  private void readReplies(InputStream in, @Nullable SplittableRandom slow, Received received) {
    byte[] buffer = new byte[8192];
    StringBuilder line = new StringBuilder();
    try {
      int n;
      while ((n = in.read(buffer, 0, slow == null ? buffer.length : 512)) >= 0) {
        receivedBytes.addAndGet(n);
        for (int i = 0; i < n; i++) {
          char c = (char) (buffer[i] & 0xFF);
          if (c != '\n') {
            line.append(c);
            continue;
          }
          String text = line.toString();
          line.setLength(0);
          int comma = text.indexOf(',');
          int end = comma < 0 ? text.length() : comma;
          String padding = comma < 0 ? "" : text.substring(comma + 1);
          if (text.length() < 2
              || (text.charAt(0) != 'r' && text.charAt(0) != 'd')
              || !padding.equals("x".repeat(padding.length()))
              || (comma >= 0 && padding.isEmpty())) {
            received.failure = "a line never sent: " + text;
            return;
          }
          long sequence = Long.parseLong(text.substring(1, end));
          (text.charAt(0) == 'r' ? received.sink : received.dispatcher)
              .add(numbered(sequence, padding.length()));
        }
        if (slow != null) {
          LockSupport.parkNanos(slow.nextLong(50_000, 500_000));
        }
      }
      if (line.length() > 0) {
        received.failure = "a partial line at EOF: " + line;
      }
    } catch (IOException e) {
      received.failure = e.toString(); // a reset: what came before it stands
    }
  }

  /**
   * Each reply client read each stream's queued sends in order, nothing else, and after an orderly
   * close all of them.
   */
  private void assertRepliesArrived() {
    int checked = 0;
    int complete = 0;
    for (Map.Entry<Long, Received> entry : receivedByKey.entrySet()) {
      Received received = entry.getValue();
      Long id = idByKey.get(entry.getKey());
      if (id == null) {
        continue; // closed before its hello reached the sink
      }
      Sends of = sends(id);
      CloseReason reason = closedReasons.get(id);
      boolean orderly = reason != null && ORDERLY.contains(reason) && !of.closedNow;
      String what =
          "connection "
              + id
              + " ("
              + received.reading
              + " reader, "
              + reason
              + (of.closedNow ? " by closeNow" : "")
              + ", reading ended by "
              + received.failure
              + ")";
      if (received.failure != null && received.failure.startsWith("a ")) {
        errors.add(what + ": " + received.failure);
      }
      if (orderly && received.failure != null) {
        errors.add(what + ": an orderly close, but reading failed");
      }
      checkStream(what + " sink", snapshot(of.sink), received.sink, orderly);
      checkStream(what + " dispatcher", snapshot(of.dispatcher), received.dispatcher, orderly);
      checked++;
      complete += orderly ? 1 : 0;
    }
    System.out.printf(
        "chaos: %d reply connections checked, %d closed orderly; %d bytes queued, %d FULL%n",
        checked, complete, queuedBytes.get(), fullResults.get());
    assertThat(errors).isEmpty();
    if (clientTls == null) { // over TLS a handful of connections in all: maybe none orderly
      assertThat(complete).as("reply connections closed orderly").isPositive();
    }
  }

  private static List<Long> snapshot(List<Long> list) {
    synchronized (list) {
      return new ArrayList<>(list);
    }
  }

  private void checkStream(String what, List<Long> queued, List<Long> got, boolean orderly) {
    int common = Math.min(queued.size(), got.size());
    for (int i = 0; i < common; i++) {
      if (!queued.get(i).equals(got.get(i))) {
        errors.add(
            what
                + ": send "
                + i
                + " was "
                + describe(queued.get(i))
                + ", received "
                + describe(got.get(i)));
        return;
      }
    }
    if (got.size() > queued.size()) {
      errors.add(what + ": received " + describe(got.get(common)) + ", never queued");
    } else if (orderly && got.size() < queued.size()) {
      errors.add(
          what
              + ": received "
              + got.size()
              + " of "
              + queued.size()
              + " queued, the first lost "
              + describe(queued.get(common)));
    }
  }

  private static String describe(long numbered) {
    return "#" + (numbered >>> 16) + " (padded " + (numbered & 0xFFFF) + ")";
  }

  /** Reads until the server closes the connection (EOF or a reset); returns the bytes read. */
  private static long drain(Socket socket) throws IOException {
    InputStream in = socket.getInputStream();
    byte[] buffer = new byte[8192];
    long total = 0;
    try {
      for (int n; (n = in.read(buffer)) >= 0; ) {
        total += n;
      }
    } catch (SocketException reset) {
      // closed by a reset: as good as an EOF here
    }
    return total;
  }

  private Socket connect(LineServer server) throws IOException {
    return connect(server, 0);
  }

  /** A loopback connection to {@code server}: plain, or TLS when this run's clients speak it. */
  private Socket connect(LineServer server, int receiveBuffer) throws IOException {
    SSLContext tls = clientTls;
    Socket plain = new Socket();
    if (receiveBuffer > 0) {
      plain.setReceiveBufferSize(receiveBuffer); // before connecting: the window it offers
    }
    plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()));
    Socket socket =
        tls == null
            ? plain
            : tls.getSocketFactory().createSocket(plain, "localhost", server.port(), true);
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
