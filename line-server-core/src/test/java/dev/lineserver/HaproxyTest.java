package dev.lineserver;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.timeout;
import static org.mockito.Mockito.verify;

import dev.lineserver.testing.ConnectionLines;
import dev.lineserver.testing.ConnectionLines.Delivered;
import dev.lineserver.testing.Lines;
import dev.lineserver.testing.Peers;
import dev.lineserver.testing.Threads;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A real haproxy in TCP mode in front of the server, started from a generated configuration with
 * {@code send-proxy} (v1) and {@code send-proxy-v2}: the sink sees each client's own address.
 */
final class HaproxyTest {
  private final ConnectionLines delivered = new ConnectionLines();
  private Process haproxy;

  @AfterEach
  void stopHaproxy() throws InterruptedException {
    if (haproxy != null) {
      haproxy.destroy();
      if (!haproxy.waitFor(Lines.TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        haproxy.destroyForcibly();
      }
    }
    Threads.assertNoServerThreads();
  }

  @ParameterizedTest
  @ValueSource(strings = {"send-proxy", "send-proxy-v2"})
  void clientsThroughHaproxy_arriveWithTheirOwnAddresses(String sendProxy, @TempDir Path dir)
      throws Exception {
    String binary = Peers.require("haproxy", "haproxy");
    try (LineServer server =
        LineServer.builder()
            .port(0)
            .proxyProtocol(ProxyProtocol.REQUIRED)
            .connectionSink(delivered)
            .start()) {
      int front = startHaproxy(binary, dir, server.port(), sendProxy);
      for (String source : List.of("127.0.0.2", "127.0.0.3")) {
        try (Socket client = new Socket()) {
          client.bind(new InetSocketAddress(InetAddress.getByName(source), 0));
          client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), front));
          client.getOutputStream().write(("position from " + source + "\n").getBytes(UTF_8));
          Delivered line = delivered.take();
          assertThat(line).as("a line through haproxy; see %s", dir).isNotNull();
          assertThat(line.line()).isEqualTo("position from " + source);
          assertThat(line.connection().remoteAddress()).isEqualTo(client.getLocalSocketAddress());
          assertThat(((InetSocketAddress) line.connection().proxyAddress()).getAddress())
              .isEqualTo(InetAddress.getLoopbackAddress());
        }
      }
    }
  }

  @Test
  void maxConnectionsPerAddress_throughHaproxy_countsEachClient_notTheProxy(@TempDir Path dir)
      throws Exception {
    String binary = Peers.require("haproxy", "haproxy");
    LineServerListener listener = mock(LineServerListener.class);
    try (LineServer server =
        LineServer.builder()
            .port(0)
            .proxyProtocol(ProxyProtocol.REQUIRED)
            .maxConnectionsPerAddress(1)
            .connectionSink(delivered)
            .listener(listener)
            .start()) {
      int front = startHaproxy(binary, dir, server.port(), "send-proxy-v2");
      Socket first = connect("127.0.0.2", front);
      try (Socket other = connect("127.0.0.3", front)) {
        send(first, "first from 127.0.0.2");
        assertThat(delivered.take().line()).isEqualTo("first from 127.0.0.2");
        send(other, "from 127.0.0.3"); // the proxy's second connection: not its address's limit
        assertThat(delivered.take().line()).isEqualTo("from 127.0.0.3");
        try (Socket second = connect("127.0.0.2", front)) {
          send(second, "second from 127.0.0.2");
          assertThat(closedByPeer(second)).as("closed by haproxy after the server").isTrue();
          verify(listener, timeout(Lines.TIMEOUT_SECONDS * 1000))
              .connectionRefused(
                  eq(second.getLocalSocketAddress()),
                  eq(RefusalReason.MAX_CONNECTIONS_PER_ADDRESS));
        }
        assertThat(delivered.isEmpty()).isTrue();
        first.close();
        await()
            .atMost(Duration.ofSeconds(Lines.TIMEOUT_SECONDS))
            .until(() -> server.stats().connectionsOpen() == 1);
        try (Socket again = connect("127.0.0.2", front)) {
          send(again, "again from 127.0.0.2");
          assertThat(delivered.take().line()).isEqualTo("again from 127.0.0.2");
        }
      } finally {
        first.close();
      }
    }
  }

  private static Socket connect(String source, int port) throws IOException {
    Socket client = new Socket();
    client.bind(new InetSocketAddress(InetAddress.getByName(source), 0));
    client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    client.setSoTimeout((int) (Lines.TIMEOUT_SECONDS * 1000));
    return client;
  }

  private static boolean closedByPeer(Socket client) throws IOException {
    try {
      return client.getInputStream().read() < 0;
    } catch (SocketException reset) {
      return true;
    }
  }

  private static void send(Socket client, String line) throws IOException {
    client.getOutputStream().write((line + "\n").getBytes(UTF_8));
    client.getOutputStream().flush();
  }

  /** Starts haproxy in front of {@code serverPort}; returns the port it listens on. */
  private int startHaproxy(String binary, Path dir, int serverPort, String sendProxy)
      throws IOException {
    int front = freePort();
    Path config = dir.resolve("haproxy.cfg");
    Files.writeString(
        config,
        String.join(
            "\n",
            "defaults",
            "  mode tcp",
            "  timeout connect 5s",
            "  timeout client 30s",
            "  timeout server 30s",
            "frontend ingest",
            "  bind 127.0.0.1:" + front,
            "  default_backend line_server",
            "backend line_server",
            "  server s1 127.0.0.1:" + serverPort + " " + sendProxy,
            ""));
    haproxy =
        new ProcessBuilder(binary, "-db", "-f", config.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("haproxy.log").toFile())
            .start();
    await()
        .atMost(Duration.ofSeconds(Lines.TIMEOUT_SECONDS))
        .ignoreExceptions()
        .failFast("haproxy exited; see " + dir, () -> !haproxy.isAlive())
        .until(() -> accepts(front));
    return front;
  }

  /** A port free a moment ago, for haproxy's frontend (haproxy cannot report a port 0 bind). */
  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static boolean accepts(int port) throws IOException {
    new Socket(InetAddress.getLoopbackAddress(), port).close();
    return true;
  }
}
