package dev.lineserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.argThat;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.timeout;
import static org.mockito.Mockito.verify;

import dev.lineserver.testing.ConnectionLines;
import dev.lineserver.testing.ConnectionLines.Delivered;
import dev.lineserver.testing.Lines;
import dev.lineserver.testing.Peers;
import dev.lineserver.testing.TestPki;
import dev.lineserver.testing.Threads;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS clients a user would point at the port: {@code openssl s_client} and {@code socat OPENSSL:},
 * with and without a client certificate, against required client authentication.
 */
final class TlsPeersTest {
  private static final String INPUT = "first\r\nsecond\n\nno newline at the end";

  private final ConnectionLines delivered = new ConnectionLines();
  private final LineServerListener listener = mock(LineServerListener.class);

  @AfterEach
  void noThreadOutlivesItsServer() {
    Threads.assertNoServerThreads();
  }

  private LineServer start(ClientAuth clientAuth) throws Exception {
    return LineServer.builder()
        .port(0)
        .tls(TestPki.shared().serverContext())
        .clientAuth(clientAuth)
        .connectionSink(delivered)
        .listener(listener)
        .start();
  }

  private void assertInputArrived(String subject) throws InterruptedException {
    List<Delivered> lines = delivered.take(4);
    assertThat(lines)
        .extracting(Delivered::line)
        .containsExactly("first", "second", "", "no newline at the end");
    assertThat(lines.get(0).connection().peerCertificates())
        .extracting(c -> c.getSubjectX500Principal().getName())
        .first()
        .isEqualTo(subject);
    verify(listener, timeout(Lines.TIMEOUT_SECONDS * 1000))
        .connectionClosed(any(), eq(CloseReason.PEER_EOF));
  }

  private static List<String> opensslClient(LineServer server, boolean withCertificate)
      throws Exception {
    TestPki pki = TestPki.shared();
    List<String> command =
        new ArrayList<>(
            List.of(
                Peers.require("openssl", "openssl"),
                "s_client",
                "-connect",
                "127.0.0.1:" + server.port(),
                "-CAfile",
                pki.caPem().toString(),
                "-verify_return_error",
                "-quiet",
                "-no_ign_eof"));
    if (withCertificate) {
      command.addAll(
          List.of(
              "-cert",
              pki.chainPem(TestPki.CLIENT).toString(),
              "-key",
              pki.keyPem(TestPki.CLIENT).toString()));
    }
    return command;
  }

  private static List<String> socatClient(LineServer server, boolean withCertificate)
      throws Exception {
    TestPki pki = TestPki.shared();
    String address = "OPENSSL:127.0.0.1:" + server.port() + ",cafile=" + pki.caPem() + ",verify=1";
    if (withCertificate) {
      address += ",cert=" + pki.chainPem(TestPki.CLIENT) + ",key=" + pki.keyPem(TestPki.CLIENT);
    }
    return List.of(Peers.require("socat", "socat"), "-u", "STDIN", address);
  }

  @Test
  void opensslSClient_withACertificate_againstRequiredClientAuth() throws Exception {
    try (LineServer server = start(ClientAuth.REQUIRED)) {
      Peers.run(opensslClient(server, true), INPUT);
      assertInputArrived("CN=trusted client");
    }
  }

  @Test
  void socat_withACertificate_againstRequiredClientAuth() throws Exception {
    try (LineServer server = start(ClientAuth.REQUIRED)) {
      Peers.run(socatClient(server, true), INPUT);
      assertInputArrived("CN=trusted client");
    }
  }

  @Test
  void opensslSClient_aCertificateChainOver47KB_isServed() throws Exception {
    try (LineServer server =
        LineServer.builder()
            .port(0)
            .tls(TestPki.shared().context(TestPki.BIG_SERVER, true))
            .connectionSink(delivered)
            .listener(listener)
            .start()) {
      Peers.run(opensslClient(server, false), INPUT);
      List<Delivered> lines = delivered.take(4);
      assertThat(lines)
          .extracting(Delivered::line)
          .containsExactly("first", "second", "", "no newline at the end");
      SSLSession session = lines.get(0).connection().tlsSession();
      assertThat(session).isNotNull();
      assertThat(session.getLocalCertificates()[0].getEncoded()).hasSizeGreaterThan(47 * 1024);
      verify(listener, never()).handshakeFailed(any(), any());
    }
  }

  @Test
  void opensslAndSocat_withoutACertificate_servedWhenNotRequired() throws Exception {
    try (LineServer server = start(ClientAuth.NONE)) {
      Peers.run(opensslClient(server, false), INPUT);
      assertThat(delivered.take(4)).extracting(Delivered::line).endsWith("no newline at the end");
      Peers.run(socatClient(server, false), INPUT);
      List<Delivered> lines = delivered.take(4);
      assertThat(lines).extracting(Delivered::line).endsWith("no newline at the end");
      assertThat(lines.get(0).connection().peerCertificates()).isEmpty();
    }
  }

  /** The README's commands for a test CA, a server and a client certificate, as written there. */
  private static final String README_PKI =
      String.join(
          "\n",
          "set -e",
          "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \\",
          "  -subj \"/CN=ingest test CA\" -keyout ca.key -out ca.pem",
          "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj \"/CN=localhost\" \\",
          "  -keyout server.key -out server.csr",
          "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 \\",
          "  -extfile <(printf \"subjectAltName=DNS:localhost,IP:127.0.0.1\") -out server.pem",
          "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj \"/CN=gateway-17\" \\",
          "  -keyout client.key -out client.csr",
          "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 365"
              + " -out client.pem",
          "");

  @Test
  void theReadmesOpensslFiles_loadWithPemFiles_andServeAClientCertificate(@TempDir Path dir)
      throws Exception {
    String openssl = Peers.require("openssl", "openssl");
    Process pki =
        new ProcessBuilder("bash", "-c", README_PKI)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("pki.log").toFile())
            .start();
    assertThat(pki.waitFor(Lines.TIMEOUT_SECONDS * 6, TimeUnit.SECONDS)).isTrue();
    assertThat(pki.exitValue()).as("the README's openssl commands; see %s", dir).isZero();
    try (LineServer server =
        LineServer.builder()
            .port(0)
            .tls(
                PemFiles.serverContext(
                    dir.resolve("server.pem"), dir.resolve("server.key"), dir.resolve("ca.pem")))
            .clientAuth(ClientAuth.REQUIRED)
            .connectionSink(delivered)
            .listener(listener)
            .start()) {
      Peers.run(
          List.of(
              openssl,
              "s_client",
              "-connect",
              "127.0.0.1:" + server.port(),
              "-CAfile",
              dir.resolve("ca.pem").toString(),
              "-cert",
              dir.resolve("client.pem").toString(),
              "-key",
              dir.resolve("client.key").toString(),
              "-quiet",
              "-no_ign_eof"),
          INPUT);
      List<Delivered> lines = delivered.take(4);
      assertThat(lines.get(3).line()).isEqualTo("no newline at the end");
      assertThat(lines.get(0).connection().peerCertificates().get(0).getSubjectX500Principal())
          .hasToString("CN=gateway-17");
    }
  }

  @Test
  void opensslAndSocat_withoutACertificate_refusedWhenRequired() throws Exception {
    try (LineServer server = start(ClientAuth.REQUIRED)) {
      Peers.exitCode(opensslClient(server, false), INPUT);
      Peers.exitCode(socatClient(server, false), INPUT);
      verify(listener, timeout(Lines.TIMEOUT_SECONDS * 1000).times(2))
          .handshakeFailed(any(), argThat(e -> e instanceof javax.net.ssl.SSLException));
      verify(listener, never()).connectionOpened(any());
      assertThat(delivered.isEmpty()).isTrue();
    }
  }
}
