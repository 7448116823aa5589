package dev.lineserver;

import static dev.lineserver.testing.ServerFixture.TIMEOUT_MILLIS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.lineserver.testing.Client;
import dev.lineserver.testing.Lines;
import dev.lineserver.testing.ListenerEvents;
import dev.lineserver.testing.LogCapture;
import dev.lineserver.testing.ServerFixture;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

final class DefensesTest {
  @RegisterExtension final ServerFixture fixture = new ServerFixture();
  private final Lines lines = fixture.lines();
  private final ListenerEvents events = fixture.events();

  private LineServer.Builder server() {
    return fixture.builder().ioThreads(2).sink(lines);
  }

  @Test
  void stats_countEveryEvent_andAddUp() throws Exception {
    LineSink sink =
        line -> {
          if (line.equals("bad")) {
            throw new IllegalArgumentException("bad");
          }
          lines.accept(line);
        };
    try (LineServer server = fixture.start(fixture.builder().maxLineLength(5).sink(sink))) {
      try (Client client = new Client(server)) {
        client.send("one\nbad\ntoolong\ntwo\n"); // 20 bytes
        client.shutdownOutput();
        assertThat(lines.take(2)).containsExactly("one", "two");
        assertThat(client.awaitServerClose()).isTrue();
      }
      events.closed.await(closed -> closed.reason() == CloseReason.PEER_EOF);

      LineServerStats stats = server.stats();
      assertThat(stats.connectionsAccepted()).isEqualTo(1);
      assertThat(stats.connectionsOpen()).isZero();
      assertThat(stats.bytesReceived()).isEqualTo(20);
      assertThat(stats.lines()).isEqualTo(3);
      assertThat(stats.linesTooLong()).isEqualTo(1);
      assertThat(stats.sinkFailures()).isEqualTo(1);
      assertThat(stats.restartLimitsReached()).isZero();
      assertThat(stats.connectionsClosed())
          .containsEntry(CloseReason.PEER_EOF, 1L)
          .containsEntry(CloseReason.PEER_RESET, 0L)
          .hasSize(CloseReason.values().length);
    }
  }

  @Test
  void idleTimeout_closesASilentConnection_notABusyOne() throws Exception {
    try (LineServer server = fixture.start(server().idleTimeout(Duration.ofMillis(300)));
        Client silent = new Client(server);
        Client busy = new Client(server)) {
      silent.send("once\n");
      assertThat(lines.take()).isEqualTo("once");
      long start = System.nanoTime();
      // The busy client sends more often than the timeout until the silent one is closed.
      while (!isClosedByServer(silent)) {
        busy.send("ping\n");
        assertThat(lines.take()).isEqualTo("ping");
        assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(10));
        waitOn(silent, 100);
      }
      events.closed.await(closed -> closed.reason() == CloseReason.IDLE_TIMEOUT);
      busy.send("still open\n");
      assertThat(lines.take()).isEqualTo("still open");
      assertThat(server.stats().connectionsClosed()).containsEntry(CloseReason.IDLE_TIMEOUT, 1L);
    }
  }

  /** Waits up to {@code millis} for the server to close {@code client}; true if it did. */
  private static boolean waitOn(Client client, int millis) throws IOException {
    client.socket.setSoTimeout(millis);
    try {
      return client.awaitServerClose();
    } catch (java.net.SocketTimeoutException e) {
      return false;
    }
  }

  private static boolean isClosedByServer(Client client) throws IOException {
    return waitOn(client, 1);
  }

  @Test
  void lineTimeout_slowloris_isClosed_andNormalClientsAreNotDelayed() throws Exception {
    int trickling = 1_000;
    try (LineServer server =
        fixture.start(server().lineTimeout(Duration.ofSeconds(2)).maxConnections(10_000))) {
      List<SocketChannel> slow = new ArrayList<>();
      try {
        for (int i = 0; i < trickling; i++) {
          SocketChannel channel =
              SocketChannel.open(
                  new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()));
          slow.add(channel);
        }
        ByteBuffer oneByte = ByteBuffer.allocate(1);
        long worstDelayNanos = 0;
        int delivered = 0;
        try (Client normal = new Client(server)) {
          // Every 100 ms each slow connection sends one more byte of a line that never ends,
          // while a normal client's lines must keep arriving promptly.
          while (server.stats().connectionsClosed().get(CloseReason.LINE_TIMEOUT) < trickling) {
            for (SocketChannel channel : slow) {
              if (channel.isOpen()) {
                oneByte.clear().put((byte) 'x').flip();
                try {
                  channel.write(oneByte);
                } catch (IOException closedByServer) {
                  channel.close();
                }
              }
            }
            long sent = System.nanoTime();
            normal.send("position " + delivered + "\n");
            assertThat(lines.take()).isEqualTo("position " + delivered);
            worstDelayNanos = Math.max(worstDelayNanos, System.nanoTime() - sent);
            delivered++;
            assertThat(delivered).as("rounds before every slow connection closed").isLessThan(300);
            lines.awaitNothing(100);
          }
        }
        System.out.printf(
            "slowloris: %d rounds, worst delay of a normal line %d ms%n",
            delivered, TimeUnit.NANOSECONDS.toMillis(worstDelayNanos));
        // Not a speed test: a normal line held up by the slow connections would wait for one of
        // their 2 s deadlines. A noisy machine (CI, builds beside it) adds tens of milliseconds.
        assertThat(TimeUnit.NANOSECONDS.toMillis(worstDelayNanos)).isLessThan(1_000);
        assertThat(delivered).isGreaterThanOrEqualTo(15); // the 2 s deadline was not cut short
      } finally {
        for (SocketChannel channel : slow) {
          channel.close();
        }
      }
    }
  }

  @Test
  void maxConnections_refusesTheNextOneAtOnce_andLeavesOpenOnesAlone() throws Exception {
    try (LineServer server = fixture.start(server().maxConnections(3))) {
      List<Client> open = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        Client client = new Client(server);
        open.add(client.send("hello " + i + "\n"));
        lines.take();
      }
      try (Client refused = new Client(server)) {
        assertThat(refused.awaitServerClose()).isTrue(); // reset, not left hanging
      }
      events.refused.await(refused -> refused.reason() == RefusalReason.MAX_CONNECTIONS);
      for (Client client : open) {
        client.send("still here\n");
        assertThat(lines.take()).isEqualTo("still here");
      }
      open.remove(0).close();
      await().atMost(Duration.ofSeconds(10)).until(() -> server.stats().connectionsOpen() == 2);
      try (Client admitted = new Client(server)) {
        admitted.send("admitted\n");
        assertThat(lines.take()).isEqualTo("admitted");
      }
      assertThat(server.stats().connectionsRefused()).isEqualTo(1);
      for (Client client : open) {
        client.close();
      }
    }
  }

  @Test
  void maxConnectionsPerAddress_countsEachSourceAddress() throws Exception {
    try (LineServer server =
        fixture.start(
            server().bindAddress(InetAddress.getByName("0.0.0.0")).maxConnectionsPerAddress(2))) {
      List<Socket> sockets = new ArrayList<>();
      try {
        for (int i = 0; i < 2; i++) {
          sockets.add(connectFrom("127.0.0.1", server));
        }
        Socket third = connectFrom("127.0.0.1", server);
        sockets.add(third);
        assertThat(readsEof(third)).isTrue();
        events.refused.await(
            refused ->
                third.getLocalSocketAddress().equals(refused.remoteAddress())
                    && refused.reason() == RefusalReason.MAX_CONNECTIONS_PER_ADDRESS);

        Socket other = connectFrom("127.0.0.2", server);
        sockets.add(other);
        other.getOutputStream().write("from another address\n".getBytes(UTF8));
        assertThat(lines.take()).isEqualTo("from another address");
      } finally {
        for (Socket socket : sockets) {
          socket.close();
        }
      }
    }
  }

  @Test
  void allowAndDeny_refuseAtAcceptByRemoteAddress_denyWins() throws Exception {
    try (LineServer server =
        fixture.start(
            server()
                .bindAddress(InetAddress.getByName("0.0.0.0"))
                .allow("127.0.0.0/30", "10.0.0.0/8")
                .deny("127.0.0.2"))) {
      try (Socket allowed = connectFrom("127.0.0.1", server);
          Socket denied = connectFrom("127.0.0.2", server);
          Socket notAllowed = connectFrom("127.0.0.9", server)) {
        assertThat(readsEof(denied)).isTrue();
        assertThat(readsEof(notAllowed)).isTrue();
        events.refused.await(
            refused ->
                denied.getLocalSocketAddress().equals(refused.remoteAddress())
                    && refused.reason() == RefusalReason.NOT_ALLOWED);
        events.refused.await(
            refused ->
                notAllowed.getLocalSocketAddress().equals(refused.remoteAddress())
                    && refused.reason() == RefusalReason.NOT_ALLOWED);
        allowed.getOutputStream().write("allowed\n".getBytes(UTF8));
        assertThat(lines.take()).isEqualTo("allowed");
        assertThat(server.stats().connectionsRefused()).isEqualTo(2);
        assertThat(server.stats().connectionsOpen()).isEqualTo(1);
      }
    }
  }

  @Test
  void allowAndDeny_badRanges_failAtOnceWithTheValue() {
    LineServer.Builder builder = LineServer.builder();
    assertThatThrownBy(() -> builder.allow("10.0.0.0/33"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("allow: 10.0.0.0/33 (expected: ");
    assertThatThrownBy(() -> builder.deny("localhost"))
        .hasMessageStartingWith("deny: localhost (expected: ");
    assertThatThrownBy(() -> builder.allow("10.0.0.1/8"))
        .hasMessage("allow: 10.0.0.1/8 (bits are set past the prefix; expected 10.0.0.0/8)");
  }

  private static final java.nio.charset.Charset UTF8 = java.nio.charset.StandardCharsets.UTF_8;

  private static Socket connectFrom(String source, LineServer server) throws IOException {
    Socket socket = new Socket();
    socket.bind(new InetSocketAddress(InetAddress.getByName(source), 0));
    socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()));
    socket.setSoTimeout((int) TIMEOUT_MILLIS);
    return socket;
  }

  private static boolean readsEof(Socket socket) throws IOException {
    InputStream in = socket.getInputStream();
    try {
      return in.read() < 0;
    } catch (SocketException reset) {
      return true;
    }
  }

  @Test
  void resetStorm_leavesNoConnectionAndNoWarning() throws Exception {
    LogCapture log = new LogCapture();
    int storm = 2_000;
    try (LineServer server = fixture.start(LineServer.builder().port(0).sink(lines))) {
      for (int i = 0; i < storm; i++) {
        Client client = new Client(server);
        if (i % 2 == 0) {
          client.send("half a line");
        }
        client.reset();
      }
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                LineServerStats stats = server.stats();
                assertThat(stats.connectionsAccepted()).isEqualTo(storm);
                assertThat(stats.connectionsOpen()).isZero();
                long closed =
                    stats.connectionsClosed().values().stream().mapToLong(Long::longValue).sum();
                assertThat(closed).isEqualTo(storm);
              });
      assertThat(lines.remaining()).isEmpty();
    } finally {
      log.close();
    }
    assertThat(log.atLeast(Level.WARNING)).isEmpty();
  }
}
