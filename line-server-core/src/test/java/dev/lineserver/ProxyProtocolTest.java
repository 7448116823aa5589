package dev.lineserver;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.lineserver.testing.Client;
import dev.lineserver.testing.ConnectionLines;
import dev.lineserver.testing.ConnectionLines.Delivered;
import dev.lineserver.testing.Lines;
import dev.lineserver.testing.ListenerEvents;
import dev.lineserver.testing.ServerFixture;
import dev.lineserver.testing.TestPki;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The PROXY protocol through real loopback sockets; the header's every byte is ProxyHeaderTest's.
 */
final class ProxyProtocolTest {
  private static final String V1 = "PROXY TCP4 192.0.2.10 198.51.100.1 40001 9000\r\n";

  @RegisterExtension final ServerFixture fixture = new ServerFixture();
  private final ConnectionLines delivered = fixture.delivered();
  private final ListenerEvents events = fixture.events();

  private LineServer.Builder server(ProxyProtocol mode) {
    return fixture.builder().proxyProtocol(mode).connectionSink(delivered);
  }

  /** A v2 PROXY TCP4 header for 203.0.113.7:5555 → 10.0.0.1:9000, with one TLV after it. */
  static byte[] v2Header() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54});
    out.writeBytes(new byte[] {0x0A, 0x21, 0x11, 0x00, 12 + 7});
    out.writeBytes(new byte[] {(byte) 203, 0, 113, 7, 10, 0, 0, 1, 0x15, (byte) 0xB3, 0x23, 0x28});
    out.writeBytes(new byte[] {0x04, 0x00, 0x04, 'n', 'o', 'o', 'p'}); // PP2_TYPE_NOOP
    return out.toByteArray();
  }

  @Test
  void required_v1_theSinkAndListenerSeeTheClient_andTheProxyStaysAvailable() throws Exception {
    try (LineServer server = fixture.start(server(ProxyProtocol.REQUIRED));
        Client client = new Client(server)) {
      client.send(V1 + "first line in the header's read\nsecond\n");

      Delivered first = delivered.take();
      assertThat(first.line()).isEqualTo("first line in the header's read");
      assertThat(first.connection().remoteAddress())
          .isEqualTo(new InetSocketAddress("192.0.2.10", 40001));
      assertThat(first.connection().proxyAddress())
          .isEqualTo(client.socket.getLocalSocketAddress());
      assertThat(delivered.take().line()).isEqualTo("second");
      assertThat(
              events.opened.matching(
                  o ->
                      o.connection()
                          .remoteAddress()
                          .equals(new InetSocketAddress("192.0.2.10", 40001))))
          .hasSize(1);
    }
  }

  @Test
  void required_v2SentOneByteAtATime_thenLines() throws Exception {
    try (LineServer server = fixture.start(server(ProxyProtocol.REQUIRED));
        Client client = new Client(server)) {
      for (byte b : v2Header()) {
        client.send(new byte[] {b});
      }
      client.send("after v2\n");
      Delivered line = delivered.take();
      assertThat(line.line()).isEqualTo("after v2");
      assertThat(line.connection().remoteAddress())
          .isEqualTo(new InetSocketAddress("203.0.113.7", 5555));
    }
  }

  @Test
  void required_aBadHeader_closesWithoutALine_reportedOnce_neitherOpenedNorClosed()
      throws Exception {
    try (LineServer server = fixture.start(server(ProxyProtocol.REQUIRED))) {
      try (Client client = new Client(server)) {
        client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(client.awaitServerClose()).isTrue();
      }
      events.handshakeFailed.await(
          failed ->
              failed
                  .error()
                  .getMessage()
                  .equals(
                      "not a PROXY protocol header: \"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n\""));
      assertThat(delivered.isEmpty()).isTrue();
      assertThat(events.opened.all()).isEmpty();
      assertThat(events.closed.all()).isEmpty();
      assertThat(server.stats().connectionsClosed().get(CloseReason.HANDSHAKE_FAILED)).isEqualTo(1);
    }
  }

  static List<Arguments> malformedHeaders() {
    long seed = 20261125;
    System.out.println("ProxyProtocolTest random header seed " + seed);
    byte[] random = new byte[64];
    new SplittableRandom(seed).nextBytes(random);
    random[0] = 'P'; // starts like a v1 signature, then noise
    byte[] v2TooLong = v2Header();
    v2TooLong[14] = (byte) 0xFF; // length 65 299: past the 4 096 cap
    return List.of(
        Arguments.of("oversize v1", ("PROXY TCP4 " + "1".repeat(100)).getBytes(US_ASCII)),
        Arguments.of("oversize v2", v2TooLong),
        Arguments.of("wrong signature", "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n".getBytes(US_ASCII)),
        Arguments.of("bad address", "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n".getBytes(US_ASCII)),
        Arguments.of("random bytes", random));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformedHeaders")
  void required_malformedHeaders_eachClosedWithAClearReport(String what, byte[] header)
      throws Exception {
    try (LineServer server = fixture.start(server(ProxyProtocol.REQUIRED))) {
      try (Client client = new Client(server)) {
        client.send(header).send("\nline\n");
        assertThat(client.awaitServerClose()).isTrue();
      }
      events.handshakeFailed.await(failed -> failed.error().getMessage().contains("PROXY"));
      assertThat(delivered.isEmpty()).isTrue();
    }
  }

  @Test
  void required_aHeaderCutShortByEof_failsToo() throws Exception {
    try (LineServer server = fixture.start(server(ProxyProtocol.REQUIRED));
        Client client = new Client(server)) {
      client.send("PROXY TCP4 192.0.2.10");
      client.shutdownOutput();
      events.handshakeFailed.await(
          failed -> failed.error().getMessage().contains("ended inside its PROXY header"));
      assertThat(delivered.isEmpty()).isTrue();
    }
  }

  @Test
  void required_noHeaderWithinTheHandshakeTimeout_closes() throws Exception {
    try (LineServer server =
            fixture.start(server(ProxyProtocol.REQUIRED).handshakeTimeout(Duration.ofMillis(200)));
        Client silent = new Client(server)) {
      assertThat(silent.awaitServerClose()).isTrue();
      events.handshakeFailed.await(failed -> failed.error() instanceof TimeoutException);
    }
  }

  @Test
  void optional_servesPlainLinesAndProxiedOnes() throws Exception {
    try (LineServer server = fixture.start(server(ProxyProtocol.OPTIONAL));
        Client plain = new Client(server);
        Client proxied = new Client(server)) {
      plain.send("PR").send("IORITY 1\nnext\n");
      assertThat(delivered.take().line()).isEqualTo("PRIORITY 1");
      Delivered next = delivered.take();
      assertThat(next.line()).isEqualTo("next");
      assertThat(next.connection().remoteAddress()).isEqualTo(plain.socket.getLocalSocketAddress());
      assertThat(next.connection().proxyAddress()).isNull();

      proxied.send(V1 + "via proxy\n");
      Delivered line = delivered.take();
      assertThat(line.line()).isEqualTo("via proxy");
      assertThat(line.connection().remoteAddress())
          .isEqualTo(new InetSocketAddress("192.0.2.10", 40001));
    }
  }

  @Test
  void optional_aTailThatLookedLikeAHeaderStart_isDeliveredAtEof() throws Exception {
    try (LineServer server = fixture.start(server(ProxyProtocol.OPTIONAL));
        Client client = new Client(server)) {
      client.send("PRO");
      client.shutdownOutput();
      assertThat(delivered.take().line()).isEqualTo("PRO");
    }
  }

  @Test
  void denyRanges_areCheckedAgainstTheClientTheHeaderNames() throws Exception {
    try (LineServer server = fixture.start(server(ProxyProtocol.REQUIRED).deny("192.0.2.0/24"));
        Client client = new Client(server)) {
      client.send(V1 + "denied\n");
      assertThat(client.awaitServerClose()).isTrue();
      events.refused.await(
          refused ->
              new InetSocketAddress("192.0.2.10", 40001).equals(refused.remoteAddress())
                  && refused.reason() == RefusalReason.NOT_ALLOWED);
      assertThat(delivered.isEmpty()).isTrue();
      assertThat(server.stats().connectionsClosed().get(CloseReason.NOT_ALLOWED)).isEqualTo(1);
    }
  }

  private static String v1(String client, int port) {
    return "PROXY TCP4 " + client + " 198.51.100.1 " + port + " 9000\r\n";
  }

  /**
   * A connection through the "proxy" (this test) for {@code client}, admitted: its line arrived.
   */
  private Client admitted(LineServer server, String client, int port) throws Exception {
    Client connection = new Client(server);
    connection.send(v1(client, port) + "from " + client + ":" + port + "\n");
    Delivered line = delivered.take();
    assertThat(line.line()).isEqualTo("from " + client + ":" + port);
    assertThat(line.connection().remoteAddress()).isEqualTo(new InetSocketAddress(client, port));
    return connection;
  }

  /** The next connection for {@code client} is closed before its line and reported as refused. */
  private void refused(LineServer server, String client, int port) throws Exception {
    try (Client connection = new Client(server)) {
      connection.send(v1(client, port) + "refused\n");
      assertThat(connection.awaitServerClose()).isTrue();
    }
    events.refused.await(
        refused ->
            new InetSocketAddress(client, port).equals(refused.remoteAddress())
                && refused.reason() == RefusalReason.MAX_CONNECTIONS_PER_ADDRESS);
  }

  private static void awaitOpen(LineServer server, int open) {
    await()
        .atMost(Duration.ofSeconds(Lines.TIMEOUT_SECONDS))
        .until(() -> server.stats().connectionsOpen() == open);
  }

  @Test
  void maxConnectionsPerAddress_behindAProxy_countsTheClientEachHeaderNames() throws Exception {
    try (LineServer server =
        fixture.start(server(ProxyProtocol.REQUIRED).maxConnectionsPerAddress(2))) {
      // Four connections from the proxy's one address at once, before any header is read.
      List<Client> proxied = new ArrayList<>();
      try {
        for (int i = 0; i < 4; i++) {
          proxied.add(new Client(server));
        }
        awaitOpen(server, 4);
        proxied.get(0).send(v1("192.0.2.10", 1) + "a1\n");
        proxied.get(1).send(v1("192.0.2.10", 2) + "a2\n");
        proxied.get(2).send(v1("192.0.2.20", 1) + "b1\n");
        assertThat(delivered.take(3)).extracting(Delivered::line).contains("a1", "a2", "b1");
        proxied.get(3).send(v1("192.0.2.10", 3) + "a3\n"); // the client's third
        assertThat(proxied.get(3).awaitServerClose()).isTrue();
        events.refused.await(
            refused ->
                new InetSocketAddress("192.0.2.10", 3).equals(refused.remoteAddress())
                    && refused.reason() == RefusalReason.MAX_CONNECTIONS_PER_ADDRESS);
        assertThat(delivered.isEmpty()).isTrue();
        LineServerStats stats = server.stats();
        assertThat(stats.connectionsClosed())
            .containsEntry(CloseReason.MAX_CONNECTIONS_PER_ADDRESS, 1L);
        assertThat(stats.connectionsOpen()).isEqualTo(3);

        proxied.remove(0).close();
        awaitOpen(server, 2);
        proxied.add(admitted(server, "192.0.2.10", 4));
      } finally {
        for (Client client : proxied) {
          client.close();
        }
      }
      awaitOpen(server, 0);
      assertThat(events.handshakeFailed.all()).isEmpty();
    }
  }

  @Test
  void maxConnectionsPerAddress_behindAProxy_everyWayAConnectionEnds_givesItsCountBack()
      throws Exception {
    String client = "192.0.2.10";
    try (LineServer server =
        fixture.start(
            server(ProxyProtocol.REQUIRED)
                .maxConnectionsPerAddress(1)
                .handshakeTimeout(Duration.ofMillis(300)))) {
      admitted(server, client, 1).close(); // EOF
      awaitOpen(server, 0);
      admitted(server, client, 2).reset();
      awaitOpen(server, 0);
      Client holder = admitted(server, client, 3);
      refused(server, client, 4);
      holder.close();
      awaitOpen(server, 0);
      try (Client bad = new Client(server)) {
        bad.send("PROXY TCP4 192.0.2.10 nonsense\r\n");
        assertThat(bad.awaitServerClose()).isTrue();
      }
      try (Client late = new Client(server)) {
        assertThat(late.awaitServerClose()).isTrue();
      }
      try (Client cutShort = new Client(server)) {
        cutShort.send("PROXY TCP4 192.0.2.10 ");
        cutShort.shutdownOutput();
        assertThat(cutShort.awaitServerClose()).isTrue();
      }
      events.handshakeFailed.await(3, failed -> true);
      awaitOpen(server, 0);

      // Had any path kept the client's count, this one would be refused.
      admitted(server, client, 5).close();
      awaitOpen(server, 0);
      assertThat(server.stats().connectionsClosed())
          .containsEntry(CloseReason.MAX_CONNECTIONS_PER_ADDRESS, 1L)
          .containsEntry(CloseReason.HANDSHAKE_FAILED, 3L);
    }
  }

  @Test
  void maxConnectionsPerAddress_optional_countsAPlainClientBySocketAddress() throws Exception {
    try (LineServer server =
            fixture.start(server(ProxyProtocol.OPTIONAL).maxConnectionsPerAddress(1));
        Client plain = new Client(server);
        Client second = new Client(server)) {
      plain.send("plain\n");
      assertThat(delivered.take().line()).isEqualTo("plain");
      second.send("second\n");
      assertThat(second.awaitServerClose()).isTrue();
      events.refused.await(
          refused ->
              second.socket.getLocalSocketAddress().equals(refused.remoteAddress())
                  && refused.reason() == RefusalReason.MAX_CONNECTIONS_PER_ADDRESS);
      assertThat(delivered.isEmpty()).isTrue();
    }
  }

  @Test
  void optional_crLfThenAPausePastTheHandshakeTimeout_isPlainData() throws Exception {
    try (LineServer server =
            fixture.start(server(ProxyProtocol.OPTIONAL).handshakeTimeout(Duration.ofMillis(200)));
        Client client = new Client(server)) {
      client.send("\r\n"); // the first bytes of a v2 signature
      // Delivered once the deadline passed: the held bytes were no header after all.
      assertThat(delivered.take().line()).isEmpty();
      client.send("abc\n");
      assertThat(delivered.take().line()).isEqualTo("abc");
      assertThat(events.opened.all()).hasSize(1);
      assertThat(events.handshakeFailed.all()).isEmpty();
    }
  }

  @Test
  void optional_silentPastTheHandshakeTimeout_thenALine_isDelivered() throws Exception {
    try (LineServer server =
            fixture.start(server(ProxyProtocol.OPTIONAL).handshakeTimeout(Duration.ofMillis(200)));
        Client client = new Client(server)) {
      // Opened at the deadline, as the plain connection it is.
      events.opened.await(opened -> true);
      client.send("late\n");
      Delivered line = delivered.take();
      assertThat(line.line()).isEqualTo("late");
      assertThat(line.connection().proxyAddress()).isNull();
      assertThat(events.handshakeFailed.all()).isEmpty();
    }
  }

  @Test
  void optional_silent_isStillClosedByTheIdleTimeout() throws Exception {
    try (LineServer server =
            fixture.start(
                server(ProxyProtocol.OPTIONAL)
                    .handshakeTimeout(Duration.ofMillis(100))
                    .idleTimeout(Duration.ofMillis(400)));
        Client client = new Client(server)) {
      assertThat(client.awaitServerClose()).isTrue();
      events.closed.await(closed -> closed.reason() == CloseReason.IDLE_TIMEOUT);
      assertThat(events.handshakeFailed.all()).isEmpty();
    }
  }

  @Test
  void required_crLfThenAPause_stillFailsAtTheDeadline() throws Exception {
    try (LineServer server =
            fixture.start(server(ProxyProtocol.REQUIRED).handshakeTimeout(Duration.ofMillis(200)));
        Client client = new Client(server)) {
      client.send("\r\n");
      assertThat(client.awaitServerClose()).isTrue();
      events.handshakeFailed.await(failed -> failed.error() instanceof TimeoutException);
      assertThat(delivered.isEmpty()).isTrue();
    }
  }

  @Test
  void optional_aRecognizedV1PrefixStalled_stillFailsAtTheDeadline() throws Exception {
    try (LineServer server =
            fixture.start(server(ProxyProtocol.OPTIONAL).handshakeTimeout(Duration.ofMillis(200)));
        Client client = new Client(server)) {
      client.send("PROXY TCP4 ");
      assertThat(client.awaitServerClose()).isTrue();
      events.handshakeFailed.await(
          failed ->
              failed.error() instanceof TimeoutException
                  && failed.error().getMessage().contains("PROXY protocol header"));
      assertThat(delivered.isEmpty()).isTrue();
      assertThat(events.opened.all()).isEmpty();
    }
  }

  @Test
  void optionalWithTls_silentPastTheHeaderDeadline_stillFailsTheTlsHandshakeDeadline()
      throws Exception {
    try (LineServer server =
            fixture.start(
                server(ProxyProtocol.OPTIONAL)
                    .tls(TestPki.shared().serverContext())
                    .handshakeTimeout(Duration.ofMillis(200)));
        Client client = new Client(server)) {
      assertThat(client.awaitServerClose()).isTrue();
      events.handshakeFailed.await(
          failed ->
              failed.error() instanceof TimeoutException
                  && failed.error().getMessage().contains("TLS handshake"));
      assertThat(events.opened.all()).isEmpty();
    }
  }

  @Test
  void handshakeTimeout_outsideItsRange_failsAtOnce() {
    assertThatThrownBy(() -> LineServer.builder().handshakeTimeout(Duration.ZERO))
        .hasMessage("handshakeTimeout: PT0S (expected: PT0.001S..PT1H)");
  }
}
