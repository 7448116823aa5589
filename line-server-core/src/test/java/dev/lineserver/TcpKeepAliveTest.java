package dev.lineserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lineserver.testing.Client;
import dev.lineserver.testing.Lines;
import dev.lineserver.testing.Threads;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * TCP keepalive as the kernel shows it on the server's side of accepted connections: {@code
 * /proc/net/tcp[6]} lists a socket's pending timer ({@code tr} 2 is keepalive) and when it fires.
 * The probe timings themselves are read back with getsockopt in internal.KeepAliveTest, and a peer
 * that really vanishes is VanishingPeerTest's.
 */
final class TcpKeepAliveTest {
  private final Lines lines = new Lines();

  @AfterEach
  void noThreadOutlivesItsServer() {
    Threads.assertNoServerThreads();
  }

  /** One established socket's timer from /proc/net/tcp[6]: its kind and seconds left. */
  record Timer(int kind, double secondsLeft) {
    static final int KEEPALIVE = 2;
  }

  @Test
  void defaults_acceptedSocketsHaveAKeepaliveTimerOfTwoMinutes() throws Exception {
    try (LineServer server = LineServer.builder().port(0).sink(lines).start();
        Client client = new Client(server)) {
      client.send("position\n");
      lines.take(); // the acceptor set the options before the connection was read

      Timer timer = serverSideTimer(server.port());
      assertThat(timer.kind()).isEqualTo(Timer.KEEPALIVE);
      assertThat(timer.secondsLeft()).isBetween(100.0, 120.0);
    }
  }

  @Test
  void tcpKeepAlive_customIdle_isTheTimerOfAcceptedSockets() throws Exception {
    try (LineServer server =
            LineServer.builder()
                .port(0)
                .tcpKeepAlive(Duration.ofSeconds(1234), Duration.ofSeconds(7), 3)
                .sink(lines)
                .start();
        Client client = new Client(server)) {
      client.send("position\n");
      lines.take();

      Timer timer = serverSideTimer(server.port());
      assertThat(timer.kind()).isEqualTo(Timer.KEEPALIVE);
      assertThat(timer.secondsLeft()).isBetween(1200.0, 1234.0);
    }
  }

  @Test
  void tcpKeepAlive_off_leavesNoTimer() throws Exception {
    try (LineServer server = LineServer.builder().port(0).tcpKeepAlive(false).sink(lines).start();
        Client client = new Client(server)) {
      client.send("position\n");
      lines.take();

      assertThat(serverSideTimer(server.port()).kind()).isNotEqualTo(Timer.KEEPALIVE);
    }
  }

  @Test
  void tcpKeepAlive_outsideItsRanges_failsAtOnceWithTheValue() {
    LineServer.Builder builder = LineServer.builder();
    Duration second = Duration.ofSeconds(1);
    assertThatThrownBy(() -> builder.tcpKeepAlive(Duration.ZERO, second, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("tcpKeepAlive idle: PT0S (expected: whole seconds, PT1S..PT9H6M7S)");
    assertThatThrownBy(() -> builder.tcpKeepAlive(Duration.ofMillis(1500), second, 1))
        .hasMessage("tcpKeepAlive idle: PT1.5S (expected: whole seconds, PT1S..PT9H6M7S)");
    assertThatThrownBy(() -> builder.tcpKeepAlive(second, Duration.ofSeconds(32768), 1))
        .hasMessage("tcpKeepAlive interval: PT9H6M8S (expected: whole seconds, PT1S..PT9H6M7S)");
    assertThatThrownBy(() -> builder.tcpKeepAlive(second, second, 0))
        .hasMessage("tcpKeepAlive count: 0 (expected: 1..127)");
    assertThatThrownBy(() -> builder.tcpKeepAlive(second, second, 128))
        .hasMessage("tcpKeepAlive count: 128 (expected: 1..127)");
  }

  /**
   * The timer of the one established socket whose local port is {@code port}: the server's side of
   * the test's connection.
   */
  private static Timer serverSideTimer(int port) throws IOException {
    List<Timer> found = new ArrayList<>();
    for (String file : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      Path path = Path.of(file);
      Assumptions.assumeTrue(Files.isReadable(path), file + " is Linux's; not readable here");
      List<String> rows = Files.readAllLines(path, StandardCharsets.US_ASCII);
      for (String row : rows.subList(1, rows.size())) {
        // sl local_address rem_address st tx_queue:rx_queue tr:tm->when ...
        String[] fields = row.trim().split("\\s+");
        String local = fields[1];
        int localPort = Integer.parseInt(local.substring(local.indexOf(':') + 1), 16);
        boolean established = fields[3].equals("01");
        if (localPort == port && established) {
          String[] timer = fields[5].split(":");
          // tm->when is in clock ticks, USER_HZ, which is 100 on Linux.
          found.add(
              new Timer(Integer.parseInt(timer[0], 16), Long.parseLong(timer[1], 16) / 100.0));
        }
      }
    }
    assertThat(found).as("established sockets on local port %d", port).hasSize(1);
    return found.get(0);
  }
}
