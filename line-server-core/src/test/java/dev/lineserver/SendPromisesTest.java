package dev.lineserver;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.lineserver.testing.Client;
import dev.lineserver.testing.ListenerEvents;
import dev.lineserver.testing.ServerFixture;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The promises of the write path ({@link ConnectionInfo#send}, {@link SendResult}, {@link
 * SendQueueFull}, the close reasons and counters of sending) attacked through loopback sockets:
 * concurrent senders, {@code close()} under load, peers that never read, closes from the sink,
 * hostile arguments, greetings and the PROXY protocol. Each runs with the sink on the I/O thread
 * and on an executor.
 */
final class SendPromisesTest {
  private static final long TIMEOUT_MILLIS = ServerFixture.TIMEOUT_MILLIS;

  @RegisterExtension final ServerFixture fixture = new ServerFixture();
  private final ListenerEvents events = fixture.events();
  private final Recording listener = new Recording(events);
  private final ExecutorService executor = Executors.newFixedThreadPool(4);
  private final ExecutorService helpers = Executors.newCachedThreadPool();
  @TempDir Path dir;

  @AfterEach
  void shutDown() throws InterruptedException {
    helpers.shutdownNow();
    executor.shutdownNow();
    assertThat(helpers.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    assertThat(executor.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  /** {@link ListenerEvents}, plus {@code sendQueueFull} and an optional greeting. */
  static class Recording implements LineServerListener {
    record QueueFull(ConnectionInfo connection, int queuedBytes) {}

    final ListenerEvents events;
    final BlockingQueue<QueueFull> queueFull = new LinkedBlockingQueue<>();
    volatile @Nullable String greeting;
    final Map<Long, SendResult> greeted = new ConcurrentHashMap<>();

    Recording(ListenerEvents events) {
      this.events = events;
    }

    @Override
    public void connectionOpened(ConnectionInfo connection) {
      String hello = greeting;
      if (hello != null) {
        greeted.put(connection.id(), connection.sendLine(hello));
      }
      events.connectionOpened(connection);
    }

    @Override
    public void connectionClosed(ConnectionInfo connection, CloseReason reason) {
      events.connectionClosed(connection, reason);
    }

    @Override
    public void sinkFailed(ConnectionInfo connection, @Nullable String line, Exception error) {
      events.sinkFailed(connection, line, error);
    }

    @Override
    public void sinkError(ConnectionInfo connection, @Nullable String line, Error error) {
      events.sinkError(connection, line, error);
    }

    @Override
    public void restartLimitReached(ConnectionInfo connection, int maxRestarts, Duration period) {
      events.restartLimitReached(connection, maxRestarts, period);
    }

    @Override
    public void handshakeFailed(ConnectionInfo connection, Exception error) {
      events.handshakeFailed(connection, error);
    }

    @Override
    public void sendQueueFull(ConnectionInfo connection, int queuedBytes) {
      queueFull.add(new QueueFull(connection, queuedBytes));
    }
  }

  private LineServer.Builder builder(boolean onExecutor) {
    LineServer.Builder builder = fixture.builder().listener(listener);
    return onExecutor ? builder.sinkExecutor(executor) : builder;
  }

  /** A sink that replies {@code "ok " + line}. */
  private static ConnectionLineSink okSink() {
    return (connection, line) -> connection.sendLine("ok " + line);
  }

  private static int port(ConnectionInfo connection) {
    return ((InetSocketAddress) connection.remoteAddress()).getPort();
  }

  /** The server's connection of {@code socket}, once opened. */
  private ConnectionInfo connectionOf(Socket socket) throws InterruptedException {
    int port = socket.getLocalPort();
    return events.opened.await(o -> port(o.connection()) == port).connection();
  }

  private static BufferedReader reader(Client client) throws IOException {
    return new BufferedReader(new InputStreamReader(client.socket.getInputStream(), UTF_8));
  }

  /** Reads until EOF; a reset ends the stream too. */
  private static byte[] readToEnd(Socket socket) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    InputStream in = socket.getInputStream();
    byte[] chunk = new byte[8192];
    try {
      int n;
      while ((n = in.read(chunk)) >= 0) {
        all.write(chunk, 0, n);
      }
    } catch (SocketException e) {
      // a reset: what came before it is what the peer got
    }
    return all.toByteArray();
  }

  /**
   * A client that does not read, on the server's Unix-domain socket: unlike loopback TCP, whose
   * send buffer grows while the peer's window is shut and takes a few KB now and then, its buffers
   * are fixed, so once they are full nothing moves until the peer reads.
   */
  private static SocketChannel stalledClient(LineServer server) throws IOException {
    SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
    channel.setOption(StandardSocketOptions.SO_RCVBUF, 1024);
    channel.connect(server.localAddress());
    return channel;
  }

  /** The one connection on the server's Unix-domain socket opened first. */
  private ConnectionInfo connectionOf(SocketChannel unused) throws InterruptedException {
    return events
        .opened
        .await(o -> o.connection().remoteAddress() instanceof UnixDomainSocketAddress)
        .connection();
  }

  /** Reads until EOF, within the test's timeout. */
  private byte[] readToEnd(SocketChannel channel) throws Exception {
    return helpers
        .submit(() -> Channels.newInputStream(channel).readAllBytes())
        .get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
  }

  private Path unixPath() {
    return dir.resolve("send-" + System.nanoTime() + ".sock");
  }

  private static String numbered(int i) {
    return String.format("M %06d %s", i, "x".repeat(88)); // 99 bytes, 100 with LF
  }

  /**
   * Fills the kernel's buffers between the server and a peer that does not read: sends ten messages
   * at a time, each batch once the last is written (so the send queue never fills), until the
   * socket takes no more for 300 ms. Returns the next message number.
   */
  private static int saturate(
      LineServer server, ConnectionInfo connection, ByteArrayOutputStream queued)
      throws IOException {
    long before = server.stats().bytesSent() - queued.size();
    int i = 0;
    while (i < 1_000_000) {
      for (int k = 0; k < 10; k++, i++) {
        byte[] message = (numbered(i) + "\n").getBytes(US_ASCII);
        assertThat(connection.send(message))
            .as("send %d while saturating", i)
            .isEqualTo(SendResult.QUEUED);
        queued.write(message);
      }
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
      while (server.stats().bytesSent() - before < queued.size()) {
        if (System.nanoTime() - deadline > 0) {
          return i; // the kernel takes no more
        }
        LockSupport.parkNanos(20_000);
      }
    }
    throw new AssertionError("the kernel took a million messages for a peer that does not read");
  }

  /** A Unix-domain server (its buffers do not grow) with an 8 KiB queue that refuses when full. */
  private LineServer.Builder refusingUnixServer(boolean onExecutor, Duration shutdownTimeout) {
    return builder(onExecutor)
        .unixSocket(unixPath())
        .maxSendQueueBytes(8192)
        .sendQueueFull(SendQueueFull.REFUSE)
        .shutdownTimeout(shutdownTimeout)
        .connectionSink(okSink());
  }

  /** Fills the kernel's buffers, then the send queue, of a peer that does not read. */
  private static void fill(LineServer server, ConnectionInfo connection) throws IOException {
    saturate(server, connection, new ByteArrayOutputStream());
    while (connection.send(numbered(0) + "\n") == SendResult.QUEUED) {
      // until FULL
    }
  }

  /** A second connection (Unix-domain) is answered while another one is stuck. */
  private void assertServed(LineServer server, String text) throws Exception {
    try (SocketChannel other = SocketChannel.open(server.localAddress())) {
      other.write(ByteBuffer.wrap((text + "\n").getBytes(UTF_8)));
      String reply =
          helpers
              .submit(
                  () ->
                      new BufferedReader(
                              new InputStreamReader(Channels.newInputStream(other), UTF_8))
                          .readLine())
              .get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
      assertThat(reply).isEqualTo("ok " + text);
    }
  }

  // ---- 2. Replies from another thread while lines stream in ----

  @ParameterizedTest(name = "onExecutor={0}")
  @ValueSource(booleans = {false, true})
  void dispatcherAndSink_sendAtOnce_eachStreamArrivesInOrder_nothingLostOrDuplicated(
      boolean onExecutor) throws Exception {
    int lines = 20_000;
    int commands = 20_000;
    List<SendResult> ackResults = new CopyOnWriteArrayList<>();
    LineServer server =
        fixture.start(
            builder(onExecutor)
                .maxSendQueueBytes(1 << 20)
                .connectionSink(
                    (connection, line) -> ackResults.add(connection.sendLine("ACK " + line))));
    try (Client client = new Client(server)) {
      long id = connectionOf(client.socket).id();
      Future<List<String>> received =
          helpers.submit(
              () -> {
                List<String> got = new ArrayList<>();
                BufferedReader in = reader(client);
                String line;
                while ((line = in.readLine()) != null) {
                  got.add(line);
                }
                return got;
              });
      List<Integer> queuedCommands = new ArrayList<>();
      Future<?> dispatcher =
          helpers.submit(
              () -> {
                for (int j = 0; j < commands; j++) {
                  ConnectionInfo connection = server.connection(id);
                  if (connection == null) {
                    break; // closing: no longer open for a lookup
                  }
                  SendResult result = connection.sendLine("CMD " + j);
                  if (result == SendResult.QUEUED) {
                    queuedCommands.add(j);
                  }
                }
                return null;
              });
      StringBuilder batch = new StringBuilder();
      for (int i = 0; i < lines; i++) {
        batch.append(i).append('\n');
        if (batch.length() > 4000) {
          client.send(batch.toString());
          batch.setLength(0);
        }
      }
      client.send(batch.toString());
      dispatcher.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
      client.shutdownOutput();
      List<String> got = received.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);

      List<Integer> acks = new ArrayList<>();
      List<Integer> cmds = new ArrayList<>();
      for (String line : got) {
        if (line.startsWith("ACK ")) {
          acks.add(Integer.parseInt(line.substring(4)));
        } else {
          assertThat(line).as("a whole line, not two mixed").startsWith("CMD ");
          cmds.add(Integer.parseInt(line.substring(4)));
        }
      }
      assertThat(ackResults).hasSize(lines).containsOnly(SendResult.QUEUED);
      List<Integer> expectedAcks = new ArrayList<>();
      for (int i = 0; i < lines; i++) {
        expectedAcks.add(i);
      }
      assertThat(acks).as("ACKs in line order").isEqualTo(expectedAcks);
      assertThat(cmds).as("commands in send order, each QUEUED one once").isEqualTo(queuedCommands);
      assertThat(queuedCommands).hasSize(commands);
      events.closed.await(c -> c.connection().id() == id && c.reason() == CloseReason.PEER_EOF);
      assertThat(server.stats().sendBytesDropped()).isZero();
    }
  }

  // ---- 3. server.close() under load ----

  @ParameterizedTest(name = "onExecutor={0}")
  @ValueSource(booleans = {false, true})
  void serverClose_underLoad_everyQueuedReplyIsReceived_andStatsAddUp(boolean onExecutor)
      throws Exception {
    int clients = 16;
    int perClient = 3_000;
    Map<Integer, AtomicLong> queuedByPort = new ConcurrentHashMap<>();
    Map<Integer, AtomicLong> refusedByPort = new ConcurrentHashMap<>();
    LineServer server =
        fixture.start(
            builder(onExecutor)
                .maxSendQueueBytes(1 << 20)
                .shutdownTimeout(Duration.ofSeconds(30))
                .connectionSink(
                    (connection, line) -> {
                      SendResult result = connection.sendLine("ok " + line);
                      (result == SendResult.QUEUED ? queuedByPort : refusedByPort)
                          .computeIfAbsent(port(connection), p -> new AtomicLong())
                          .incrementAndGet();
                    }));
    List<Future<long[]>> readers = new ArrayList<>(); // {port, replies, bytes}
    List<Future<?>> writers = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      Client client = new Client(server);
      int port = client.socket.getLocalPort();
      readers.add(
          helpers.submit(
              () -> {
                try (client) {
                  byte[] all = readToEnd(client.socket);
                  long replies = 0;
                  for (byte b : all) {
                    replies += b == '\n' ? 1 : 0;
                  }
                  return new long[] {port, replies, all.length};
                }
              }));
      writers.add(
          helpers.submit(
              () -> {
                StringBuilder batch = new StringBuilder();
                for (int i = 0; i < perClient; i++) {
                  batch.append("line ").append(i).append('\n');
                  if (i % 100 == 99) {
                    client.send(batch.toString());
                    batch.setLength(0);
                  }
                }
                client.shutdownOutput();
                return null;
              }));
    }
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> server.stats().lines() >= (long) clients * perClient / 4);
    server.close();

    long bytesReceived = 0;
    for (Future<long[]> reader : readers) {
      long[] got = reader.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
      AtomicLong queued = queuedByPort.get((int) got[0]);
      assertThat(got[1])
          .as("replies received by client port %d == QUEUED results", got[0])
          .isEqualTo(queued == null ? 0 : queued.get());
      bytesReceived += got[2];
    }
    for (Future<?> writer : writers) {
      writer.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS); // every writer got its lines out
    }
    assertThat(refusedByPort).isEmpty();
    LineServerStats stats = server.stats();
    assertThat(stats.sendBytesDropped()).isZero();
    assertThat(stats.bytesSent()).isEqualTo(bytesReceived);
    assertThat(stats.lines()).isEqualTo((long) clients * perClient);
    assertThat(events.closed.await(clients, c -> true))
        .extracting(ListenerEvents.Closed::reason)
        .allMatch(r -> r == CloseReason.PEER_EOF || r == CloseReason.SERVER_CLOSE);
  }

  // ---- 4. A peer that never reads ----

  @ParameterizedTest(name = "onExecutor={0}")
  @ValueSource(booleans = {false, true})
  void neverReadingPeer_closePolicy_endsAsSlowReader_andOthersAreServed(boolean onExecutor)
      throws Exception {
    int max = 4096;
    LineServer server =
        fixture.start(
            builder(onExecutor)
                .unixSocket(unixPath())
                .maxSendQueueBytes(max)
                .connectionSink(okSink()));
    try (SocketChannel stalled = stalledClient(server)) {
      ConnectionInfo connection = connectionOf(stalled);
      ByteArrayOutputStream queued = new ByteArrayOutputStream();
      SendResult result = SendResult.QUEUED;
      for (int i = saturate(server, connection, queued);
          i < 1_000_000 && result == SendResult.QUEUED;
          i++) {
        byte[] message = (numbered(i) + "\n").getBytes(US_ASCII);
        result = connection.send(message);
        if (result == SendResult.QUEUED) {
          queued.write(message);
        }
      }
      assertThat(result).isEqualTo(SendResult.FULL);

      events.closed.await(
          c -> c.connection().id() == connection.id() && c.reason() == CloseReason.SLOW_READER);
      Recording.QueueFull full = listener.queueFull.poll(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
      assertThat(full).isNotNull();
      assertThat(full.connection().id()).isEqualTo(connection.id());
      assertThat(full.queuedBytes()).isBetween(max - 100 + 1, max);
      assertThat(connection.send("late\n")).isEqualTo(SendResult.CLOSED);
      assertThat(connection.sendLine("late")).isEqualTo(SendResult.CLOSED);
      assertThat(server.connection(connection.id())).isNull();
      assertThat(server.connections()).doesNotContain(connection);
      assertServed(server, "while one is stuck");
      assertThat(listener.queueFull).as("sendQueueFull once").isEmpty();

      LineServerStats stats = server.stats();
      assertThat(stats.sendsRefused()).isEqualTo(1);
      assertThat(stats.sendBytesDropped()).isPositive();
      long written = stats.bytesSent() - "ok while one is stuck\n".length();
      assertThat(written + stats.sendBytesDropped())
          .as("every QUEUED byte was written or dropped (counted)")
          .isEqualTo(queued.size());
      // What the kernel took reaches the peer, in order; then the end.
      byte[] got = readToEnd(stalled);
      assertThat((long) got.length).isEqualTo(written);
      assertThat(new String(got, US_ASCII))
          .isEqualTo(queued.toString(US_ASCII).substring(0, got.length));
      // Nothing moved on the full socket: what was not written when the send was refused is what
      // was dropped, and FULL came only when the send would pass maxSendQueueBytes unwritten.
      assertThat((long) full.queuedBytes())
          .as("sendQueueFull's queuedBytes (sent and not yet written) == bytes dropped")
          .isEqualTo(stats.sendBytesDropped());
      assertThat(stats.sendBytesDropped())
          .as("unwritten bytes when FULL (a 100-byte send refused)")
          .isBetween((long) max - 99, (long) max);
    }
  }

  @ParameterizedTest(name = "onExecutor={0}")
  @ValueSource(booleans = {false, true})
  void neverReadingPeer_refusePolicy_staysOpen_boundedQueue_thenDeliversEveryQueuedSend(
      boolean onExecutor) throws Exception {
    int max = 4096;
    LineServer server =
        fixture.start(
            builder(onExecutor)
                .unixSocket(unixPath())
                .maxSendQueueBytes(max)
                .sendQueueFull(SendQueueFull.REFUSE)
                .connectionSink(okSink()));
    try (SocketChannel stalled = stalledClient(server)) {
      ConnectionInfo connection = connectionOf(stalled);
      ByteArrayOutputStream queued = new ByteArrayOutputStream();
      long full = 0;
      int i = saturate(server, connection, queued);
      for (; i < 1_000_000 && full < 10_000; i++) {
        byte[] message = (numbered(i) + "\n").getBytes(US_ASCII);
        SendResult result = connection.send(message);
        if (result == SendResult.QUEUED) {
          queued.write(message);
          long unwritten = queued.size() - server.stats().bytesSent();
          assertThat(unwritten).as("bytes QUEUED and not written").isLessThanOrEqualTo(max);
        } else {
          assertThat(result).isEqualTo(SendResult.FULL);
          full++;
        }
      }
      assertThat(full).isEqualTo(10_000);
      assertThat(server.stats().sendsRefused()).isEqualTo(full);
      long unwrittenWhenFull = queued.size() - server.stats().bytesSent();
      assertThat(server.connection(connection.id())).isSameAs(connection);
      assertServed(server, "while one is refused");
      Recording.QueueFull reported = listener.queueFull.poll(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
      assertThat(reported).isNotNull();
      assertThat(reported.queuedBytes()).isBetween(max - 99, max);
      assertThat(listener.queueFull).as("sendQueueFull once while it stays full").isEmpty();

      // The peer reads now: later sends are queued again, and it gets exactly the QUEUED ones.
      Future<byte[]> got = helpers.submit(() -> Channels.newInputStream(stalled).readAllBytes());
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MILLIS);
      int queuedAfter = 0;
      for (; queuedAfter < 1_000 && System.nanoTime() < deadline; i++) {
        byte[] message = (numbered(i) + "\n").getBytes(US_ASCII);
        if (connection.send(message) == SendResult.QUEUED) {
          queued.write(message);
          queuedAfter++;
        }
      }
      assertThat(queuedAfter).isEqualTo(1_000);
      connection.close();
      assertThat(new String(got.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS), US_ASCII))
          .isEqualTo(queued.toString(US_ASCII));
      // The peer ends its side too, as a client does at the server's end: the server closed
      // lingering, reading until then.
      stalled.shutdownOutput();
      events.closed.await(
          c ->
              c.connection().id() == connection.id()
                  && c.reason() == CloseReason.APPLICATION_CLOSE);
      LineServerStats stats = server.stats();
      assertThat(stats.sendBytesDropped()).isZero();
      assertThat(stats.bytesSent()).isEqualTo(queued.size() + "ok while one is refused\n".length());
      assertThat(unwrittenWhenFull)
          .as("unwritten bytes while 100-byte sends are refused (FULL only past maxSendQueueBytes)")
          .isBetween((long) max - 99, (long) max);
    }
  }

  // ---- 5. Closing by the application ----

  @ParameterizedTest(name = "onExecutor={0}")
  @ValueSource(booleans = {false, true})
  void closeFromTheSink_afterAnErrorLine_peerGetsTheLineThenEof(boolean onExecutor)
      throws Exception {
    AtomicReference<@Nullable SendResult> afterClose = new AtomicReference<>();
    LineServer server =
        fixture.start(
            builder(onExecutor)
                .connectionSink(
                    (connection, line) -> {
                      if (line.equals("bad")) {
                        connection.sendLine("ERR bad");
                        connection.close();
                        afterClose.set(connection.sendLine("after close, in the same call"));
                      } else {
                        connection.sendLine("ok " + line);
                      }
                    }));
    try (Client client = new Client(server)) {
      ConnectionInfo connection = connectionOf(client.socket);
      assertThat(server.connections()).contains(connection);
      client.send("good\n");
      BufferedReader in = reader(client);
      assertThat(in.readLine()).isEqualTo("ok good");
      client.send("bad\n");
      assertThat(in.readLine()).isEqualTo("ERR bad");
      List<String> rest = new ArrayList<>();
      String line;
      while ((line = in.readLine()) != null) {
        rest.add(line);
      }
      // The peer ends its side too, as a client does at the server's end: the server closed
      // lingering, reading until then.
      client.shutdownOutput();
      events.closed.await(
          c ->
              c.connection().id() == connection.id()
                  && c.reason() == CloseReason.APPLICATION_CLOSE);
      // A send in the sink call that closed may be queued (the call is not over); if it is, it
      // arrives before the end.
      assertThat(rest)
          .isEqualTo(
              afterClose.get() == SendResult.QUEUED
                  ? List.of("after close, in the same call")
                  : List.of());
      assertThat(connection.sendLine("later")).isEqualTo(SendResult.CLOSED);
      assertThat(connection.send(new byte[] {1})).isEqualTo(SendResult.CLOSED);
      assertThat(server.connection(connection.id())).isNull();
      assertThat(server.connections()).doesNotContain(connection);
      assertThat(server.stats().sendBytesDropped()).isZero();
      connection.close(); // no-ops on a closed connection
      connection.closeNow();
    }
  }

  @ParameterizedTest(name = "onExecutor={0}")
  @ValueSource(booleans = {false, true})
  void closeNow_dropsWhatTheStalledPeerDidNotRead_countedExactly(boolean onExecutor)
      throws Exception {
    int max = 8192;
    LineServer server =
        fixture.start(
            builder(onExecutor)
                .unixSocket(unixPath())
                .maxSendQueueBytes(max)
                .sendQueueFull(SendQueueFull.REFUSE)
                .connectionSink(okSink()));
    try (SocketChannel stalled = stalledClient(server)) {
      ConnectionInfo connection = connectionOf(stalled);
      ByteArrayOutputStream sent = new ByteArrayOutputStream();
      long queued = 0;
      for (int i = saturate(server, connection, sent); i < 1_000_000; i++) {
        byte[] message = (numbered(i) + "\n").getBytes(US_ASCII);
        if (connection.send(message) != SendResult.QUEUED) {
          break;
        }
        queued += message.length;
      }
      queued += sent.size();
      connection.closeNow();
      events.closed.await(
          c ->
              c.connection().id() == connection.id()
                  && c.reason() == CloseReason.APPLICATION_CLOSE);
      assertThat(connection.sendLine("later")).isEqualTo(SendResult.CLOSED);
      assertThat(server.connection(connection.id())).isNull();
      LineServerStats stats = server.stats();
      assertThat(stats.sendBytesDropped()).isPositive();
      assertThat(stats.bytesSent() + stats.sendBytesDropped()).isEqualTo(queued);
      assertThat((long) readToEnd(stalled).length).isEqualTo(stats.bytesSent());
    }
  }

  @ParameterizedTest(name = "onExecutor={0}")
  @ValueSource(booleans = {false, true})
  void close_toAPeerThatNeverReads_endsAsSlowReaderAfterShutdownTimeout(boolean onExecutor)
      throws Exception {
    LineServer server = fixture.start(refusingUnixServer(onExecutor, Duration.ofMillis(500)));
    try (SocketChannel stalled = stalledClient(server)) {
      ConnectionInfo connection = connectionOf(stalled);
      fill(server, connection);
      long start = System.nanoTime();
      connection.close();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> server.connection(connection.id()) == null); // closing: no longer open
      assertThat(server.connections()).doesNotContain(connection);
      assertThat(listener.events.closed.matching(c -> c.connection().id() == connection.id()))
          .as("closing, not closed yet")
          .isEmpty();
      events.closed.await(
          c -> c.connection().id() == connection.id() && c.reason() == CloseReason.SLOW_READER);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThan(Duration.ofMillis(400));
      assertThat(server.stats().sendBytesDropped()).isPositive();
      assertThat(connection.send("x")).isEqualTo(SendResult.CLOSED);
    }
  }

  @ParameterizedTest(name = "onExecutor={0}")
  @ValueSource(booleans = {false, true})
  void closeNow_endsACloseThatWaitsForTheReader_asApplicationClose(boolean onExecutor)
      throws Exception {
    LineServer server = fixture.start(refusingUnixServer(onExecutor, Duration.ofSeconds(60)));
    try (SocketChannel stalled = stalledClient(server)) {
      ConnectionInfo connection = connectionOf(stalled);
      fill(server, connection);
      connection.close();
      assertThat(connection.send("x")).isIn(SendResult.QUEUED, SendResult.FULL, SendResult.CLOSED);
      connection.closeNow();
      events.closed.await(
          c ->
              c.connection().id() == connection.id()
                  && c.reason() == CloseReason.APPLICATION_CLOSE);
      assertThat(server.stats().sendBytesDropped()).isPositive();
    }
  }

  // ---- 6. Hostile inputs ----

  @ParameterizedTest(name = "onExecutor={0}")
  @ValueSource(booleans = {false, true})
  void hostileArguments_throwNamingTheProblem_andQueueNothing(boolean onExecutor) throws Exception {
    int max = 1000;
    LineServer server =
        fixture.start(
            builder(onExecutor)
                .maxSendQueueBytes(max)
                .sendQueueFull(SendQueueFull.REFUSE)
                .connectionSink(okSink()));
    try (Client client = new Client(server)) {
      ConnectionInfo connection = connectionOf(client.socket);
      assertThatThrownBy(() -> connection.send(new byte[max + 1]))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(String.valueOf(max + 1))
          .hasMessageContaining("0.." + max);
      assertThatThrownBy(() -> connection.send(ByteBuffer.allocateDirect(max + 1)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(String.valueOf(max + 1));
      assertThatThrownBy(() -> connection.send(new byte[4], 2, 5))
          .isInstanceOf(IndexOutOfBoundsException.class);
      assertThatThrownBy(() -> connection.send(new byte[4], -1, 2))
          .isInstanceOf(IndexOutOfBoundsException.class);
      assertThatThrownBy(() -> connection.send("a\uD800b"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("index 1");
      assertThatThrownBy(() -> connection.sendLine("ab\uDC00"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("index 2");
      assertThatThrownBy(() -> connection.sendLine("éé\uD800"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("index 2");
      assertThatThrownBy(() -> connection.send("x".repeat(max + 1)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("0.." + max);
      assertThatThrownBy(() -> connection.sendLine("x".repeat(max)))
          .as("max chars and the delimiter: one byte too many")
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> connection.send("é".repeat(max / 2 + 1)))
          .as("max/2+1 two-byte chars")
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(String.valueOf(max));
      assertThat(server.stats().sendsRefused()).isZero();

      // Empty sends queue nothing and break nothing.
      assertThat(connection.send(new byte[0])).isEqualTo(SendResult.QUEUED);
      assertThat(connection.send(new byte[3], 1, 0)).isEqualTo(SendResult.QUEUED);
      assertThat(connection.send("")).isEqualTo(SendResult.QUEUED);
      assertThat(connection.send(ByteBuffer.allocate(0))).isEqualTo(SendResult.QUEUED);
      assertThat(connection.sendLine("")).isEqualTo(SendResult.QUEUED);
      // A ByteBuffer's remaining bytes, its position left as it was; heap and direct.
      ByteBuffer heap = ByteBuffer.wrap("xyz".getBytes(US_ASCII)).position(1);
      assertThat(connection.send(heap)).isEqualTo(SendResult.QUEUED);
      assertThat(heap.position()).isEqualTo(1);
      ByteBuffer direct = ByteBuffer.allocateDirect(4).put("1234".getBytes(US_ASCII)).flip();
      direct.limit(3);
      ByteBuffer view = direct.asReadOnlyBuffer();
      assertThat(connection.send(view)).isEqualTo(SendResult.QUEUED);
      assertThat(view.position()).isZero();
      assertThat(connection.send(new byte[] {'a', 'b', 'c', 'd'}, 1, 2))
          .isEqualTo(SendResult.QUEUED);
      assertThat(connection.sendLine("é\uD83D\uDE00")).isEqualTo(SendResult.QUEUED);
      // Exactly max bytes fit an empty queue.
      byte[] whole = new byte[max];
      java.util.Arrays.fill(whole, (byte) 'w');
      await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().bytesSent() == 15);
      // The queue counts a write done a moment after bytesSent does: retry a FULL (REFUSE).
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> connection.send(whole) == SendResult.QUEUED);
      connection.close();

      String expected = "\nyz123bcé\uD83D\uDE00\n" + "w".repeat(max);
      assertThat(new String(readToEnd(client.socket), UTF_8)).isEqualTo(expected);
      client.shutdownOutput(); // as a client does at the server's end: the lingering close ends
      events.closed.await(
          c ->
              c.connection().id() == connection.id()
                  && c.reason() == CloseReason.APPLICATION_CLOSE);
      assertThat(server.stats().bytesSent()).isEqualTo(expected.getBytes(UTF_8).length);
    }
  }

  @Test
  void sendText_aCharacterTheCharsetLacks_throwsNamingTheIndex() throws Exception {
    LineServer server = fixture.start(builder(false).charset(US_ASCII).connectionSink(okSink()));
    try (Client client = new Client(server)) {
      ConnectionInfo connection = connectionOf(client.socket);
      assertThatThrownBy(() -> connection.sendLine("abé"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("index 2");
      assertThat(connection.sendLine("fine")).isEqualTo(SendResult.QUEUED);
      assertThat(reader(client).readLine()).isEqualTo("fine");
    }
  }

  @ParameterizedTest(name = "onExecutor={0}")
  @ValueSource(booleans = {false, true})
  void manyTinySends_fromADispatcherAndFromTheSink_arriveExactlyInOrder(boolean onExecutor)
      throws Exception {
    int tiny = 200_000;
    LineServer server =
        fixture.start(
            builder(onExecutor)
                .maxSendQueueBytes(1 << 20)
                .sendQueueFull(SendQueueFull.REFUSE)
                .connectionSink(
                    (connection, line) -> {
                      for (int i = 0; i < 10_000; i++) {
                        connection.send(new byte[] {(byte) ('a' + i % 26)});
                      }
                      connection.send("\n");
                    }));
    try (Client client = new Client(server)) {
      ConnectionInfo connection = connectionOf(client.socket);
      Future<byte[]> got = helpers.submit(() -> readToEnd(client.socket));
      client.send("go\n");
      ByteArrayOutputStream queued = new ByteArrayOutputStream();
      for (int i = 0; i < tiny; i++) {
        byte b = (byte) ('0' + i % 10);
        if (connection.send(new byte[] {b}) == SendResult.QUEUED) {
          queued.write(b);
        }
      }
      client.send("go\n");
      await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().lines() == 2);
      connection.close();
      String received = new String(got.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS), US_ASCII);
      StringBuilder sinkReply = new StringBuilder();
      for (int i = 0; i < 10_000; i++) {
        sinkReply.append((char) ('a' + i % 26));
      }
      sinkReply.append('\n');
      String digits = received.replaceAll("[a-z\\n]", "");
      assertThat(digits)
          .as("the dispatcher's QUEUED bytes, in order")
          .isEqualTo(queued.toString(US_ASCII));
      String letters = received.replaceAll("[0-9]", "");
      assertThat(letters).isEqualTo(sinkReply.toString().repeat(2));
      LineServerStats stats = server.stats();
      assertThat(stats.sendsRefused()).isZero();
      assertThat(stats.bytesSent()).isEqualTo(received.length());
    }
  }

  @ParameterizedTest(name = "onExecutor={0}")
  @ValueSource(booleans = {false, true})
  void sinkThrowsRightAfterSending_theRepliesStillArrive(boolean onExecutor) throws Exception {
    LineServer server =
        fixture.start(
            builder(onExecutor)
                .connectionSink(
                    (connection, line) -> {
                      connection.sendLine("ok " + line);
                      throw new IllegalStateException("after sending " + line);
                    }));
    try (Client client = new Client(server)) {
      client.send("a\nb\nc\n").shutdownOutput();
      assertThat(new String(readToEnd(client.socket), UTF_8)).isEqualTo("ok a\nok b\nok c\n");
      events.sinkFailed.await(3, f -> true);
      events.closed.await(c -> c.reason() == CloseReason.PEER_EOF);
    }
  }

  /** The restart limit is an orderly close: the replies made before it are written. */
  @ParameterizedTest(name = "onExecutor={0}")
  @ValueSource(booleans = {false, true})
  void sinkThrowsPastTheRestartLimit_theRepliesStillArrive(boolean onExecutor) throws Exception {
    LineServer server =
        fixture.start(
            builder(onExecutor)
                .restartIntensity(1, Duration.ofMinutes(1))
                .connectionSink(
                    (connection, line) -> {
                      connection.sendLine("ok " + line);
                      throw new IllegalStateException("after sending " + line);
                    }));
    try (Client client = new Client(server)) {
      client.send("a\nb\n");
      assertThat(new String(readToEnd(client.socket), UTF_8)).isEqualTo("ok a\nok b\n");
      // The peer ends its side too, as a client does at the server's end: the server closed
      // lingering, reading until then.
      client.shutdownOutput();
      events.closed.await(c -> c.reason() == CloseReason.RESTART_LIMIT);
      assertThat(server.stats().sendBytesDropped()).isZero();
    }
  }

  /**
   * SendResult.QUEUED: only a reset, SLOW_READER, closeNow or the shutdown timeout drop what was
   * queued. A sink's Error (SERVER_ERROR) is none of them.
   */
  @ParameterizedTest(name = "onExecutor={0}")
  @ValueSource(booleans = {false, true})
  void sinkThrowsAnErrorRightAfterSending_theReplyStillArrives(boolean onExecutor)
      throws Exception {
    LineServer server =
        fixture.start(
            builder(onExecutor)
                .connectionSink(
                    (connection, line) -> {
                      connection.sendLine("ok " + line);
                      throw new AssertionError("after sending " + line);
                    }));
    try (Client client = new Client(server)) {
      client.send("a\n");
      byte[] got = readToEnd(client.socket);
      // The peer ends its side too, as a client does at the server's end: the server closed
      // lingering, reading until then.
      client.shutdownOutput();
      events.closed.await(c -> c.reason() == CloseReason.SERVER_ERROR);
      LineServerStats stats = server.stats();
      assertThat(new String(got, UTF_8))
          .as("sendBytesDropped=%d", stats.sendBytesDropped())
          .isEqualTo("ok a\n");
      assertThat(stats.sendBytesDropped()).isZero();
    }
  }

  @ParameterizedTest(name = "onExecutor={0}")
  @ValueSource(booleans = {false, true})
  void greetingFromConnectionOpened_arrivesBeforeAnyReply(boolean onExecutor) throws Exception {
    listener.greeting = "HELLO";
    LineServer server = fixture.start(builder(onExecutor).connectionSink(okSink()));
    for (int round = 0; round < 20; round++) {
      try (Client client = new Client(server)) {
        client.send("x\ny\n").shutdownOutput(); // at once: the lines may be in the first read
        assertThat(new String(readToEnd(client.socket), UTF_8)).isEqualTo("HELLO\nok x\nok y\n");
        long id = connectionOf(client.socket).id();
        assertThat(listener.greeted.get(id)).isEqualTo(SendResult.QUEUED);
      }
    }
  }

  // ---- 7. PROXY protocol ----

  @ParameterizedTest(name = "onExecutor={0}")
  @ValueSource(booleans = {false, true})
  void proxyProtocol_repliesReachTheClient(boolean onExecutor) throws Exception {
    listener.greeting = "HELLO";
    LineServer server =
        fixture.start(
            builder(onExecutor).proxyProtocol(ProxyProtocol.REQUIRED).connectionSink(okSink()));
    try (Client client = new Client(server)) {
      client.send("PROXY TCP4 192.0.2.10 198.51.100.1 40001 9000\r\nfirst\nsecond\n");
      client.shutdownOutput();
      assertThat(new String(readToEnd(client.socket), UTF_8))
          .isEqualTo("HELLO\nok first\nok second\n");
      ListenerEvents.Closed closed = events.closed.await(c -> c.reason() == CloseReason.PEER_EOF);
      assertThat(closed.connection().remoteAddress())
          .isEqualTo(new InetSocketAddress("192.0.2.10", 40001));
    }
    try (Client client = new Client(server)) {
      client.send(ProxyProtocolTest.v2Header());
      client.send("v2\n");
      BufferedReader in = reader(client);
      assertThat(in.readLine()).isEqualTo("HELLO");
      assertThat(in.readLine()).isEqualTo("ok v2");
    }
  }

  @ParameterizedTest(name = "onExecutor={0}")
  @ValueSource(booleans = {false, true})
  void proxyProtocolOptional_plainConnection_repliesReachTheClient(boolean onExecutor)
      throws Exception {
    LineServer server =
        fixture.start(
            builder(onExecutor).proxyProtocol(ProxyProtocol.OPTIONAL).connectionSink(okSink()));
    try (Client client = new Client(server)) {
      client.send("plain\n").shutdownOutput();
      assertThat(new String(readToEnd(client.socket), UTF_8)).isEqualTo("ok plain\n");
    }
  }
}
