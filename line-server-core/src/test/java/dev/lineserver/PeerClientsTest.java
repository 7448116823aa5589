package dev.lineserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.timeout;
import static org.mockito.Mockito.verify;

import dev.lineserver.testing.Lines;
import dev.lineserver.testing.Peers;
import dev.lineserver.testing.Threads;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real programs a user would point at the port: logger, nc, socat. */
final class PeerClientsTest {
  private static final String INPUT = "first\r\nsecond\n\nthird\rwith cr\nno newline at the end";

  private final Lines lines = new Lines();
  private final LineServerListener listener = mock(LineServerListener.class);

  @AfterEach
  void noThreadOutlivesItsServer() {
    Threads.assertNoServerThreads();
  }

  private void assertInputArrived() throws InterruptedException {
    assertThat(lines.take(5))
        .containsExactly("first", "second", "", "third\rwith cr", "no newline at the end");
    verify(listener, timeout(Lines.TIMEOUT_SECONDS * 1000))
        .connectionClosed(any(), eq(CloseReason.PEER_EOF));
  }

  @Test
  void netcat_sendsAFileAndHalfCloses_everyLineAndTheTailArrive() throws Exception {
    String nc = Peers.require("nc", "netcat-openbsd");
    try (LineServer server = LineServer.builder().port(0).sink(lines).listener(listener).start()) {
      Peers.run(List.of(nc, "-N", "127.0.0.1", String.valueOf(server.port())), INPUT);
      assertInputArrived();
    }
  }

  @Test
  void socat_sendsStdin_everyLineAndTheTailArrive() throws Exception {
    String socat = Peers.require("socat", "socat");
    try (LineServer server = LineServer.builder().port(0).sink(lines).listener(listener).start()) {
      Peers.run(List.of(socat, "-u", "STDIN", "TCP:127.0.0.1:" + server.port()), INPUT);
      assertInputArrived();
    }
  }

  @Test
  void netcatAndSocat_overAUnixSocket_everyLineAndTheTailArrive(@TempDir Path dir)
      throws Exception {
    String nc = Peers.require("nc", "netcat-openbsd");
    String socat = Peers.require("socat", "socat");
    Path path = dir.resolve("ingest.sock");
    try (LineServer server =
        LineServer.builder().unixSocket(path).sink(lines).listener(listener).start()) {
      assertThat(server.localAddress()).isEqualTo(UnixDomainSocketAddress.of(path));
      Peers.run(List.of(nc, "-N", "-U", path.toString()), INPUT);
      assertInputArrived();
      Peers.run(List.of(socat, "-u", "STDIN", "UNIX-CONNECT:" + path), INPUT);
      assertThat(lines.take(5))
          .containsExactly("first", "second", "", "third\rwith cr", "no newline at the end");
    }
  }

  @Test
  void logger_overTcp_eachMessageIsOneLine() throws Exception {
    String logger = Peers.require("logger", "bsdutils");
    try (LineServer server = LineServer.builder().port(0).sink(lines).listener(listener).start()) {
      String port = String.valueOf(server.port());
      Peers.run(
          List.of(logger, "--tcp", "--server", "127.0.0.1", "--port", port, "--tag", "it"),
          "position one\nposition two\n");
      // RFC 5424 messages in RFC 6587 non-transparent framing: each one ends with LF.
      assertThat(lines.take(2))
          .satisfiesExactly(
              line ->
                  assertThat(line).startsWith("<13>1 ").contains(" it ").endsWith(" position one"),
              line ->
                  assertThat(line).startsWith("<13>1 ").contains(" it ").endsWith(" position two"));
    }
  }
}
