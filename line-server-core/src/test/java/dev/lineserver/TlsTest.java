package dev.lineserver;

import static dev.lineserver.testing.ServerFixture.TIMEOUT_MILLIS;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.lineserver.testing.Client;
import dev.lineserver.testing.ClientHellos;
import dev.lineserver.testing.ConnectionLines;
import dev.lineserver.testing.ConnectionLines.Delivered;
import dev.lineserver.testing.Lines;
import dev.lineserver.testing.ListenerEvents;
import dev.lineserver.testing.LogCapture;
import dev.lineserver.testing.ServerFixture;
import dev.lineserver.testing.TestPki;
import dev.lineserver.testing.Threads;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** TLS through real loopback sockets with the JDK's {@link SSLSocket} as the client. */
final class TlsTest {
  @RegisterExtension final ServerFixture fixture = new ServerFixture();
  private final ConnectionLines delivered = fixture.delivered();
  private final ListenerEvents events = fixture.events();

  private LineServer.Builder server() throws Exception {
    return fixture.builder().tls(TestPki.shared().serverContext()).connectionSink(delivered);
  }

  private static SSLSocket connect(LineServer server, @Nullable String certificate, String protocol)
      throws Exception {
    SSLContext context = TestPki.shared().clientContext(certificate);
    SSLSocket socket =
        (SSLSocket)
            context
                .getSocketFactory()
                .createSocket(InetAddress.getLoopbackAddress(), server.port());
    socket.setEnabledProtocols(new String[] {protocol});
    socket.setSoTimeout((int) TIMEOUT_MILLIS);
    return socket;
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void lines_overTls_framedAsWithout_andCloseNotifyDeliversTheTail(String protocol)
      throws Exception {
    try (LineServer server = fixture.start(server())) {
      SSLSocket client = connect(server, null, protocol);
      try {
        OutputStream out = client.getOutputStream();
        out.write("a\nb\r\nc\rd\n\n".getBytes(UTF_8));
        out.write("x".repeat(40_000).getBytes(UTF_8)); // over two records
        out.write("\nthe tail".getBytes(UTF_8));
        out.flush();
        assertThat(delivered.take().line()).isEqualTo("a");
        Delivered b = delivered.take();
        assertThat(b.line()).isEqualTo("b");
        assertThat(b.connection().tlsSession().getProtocol()).isEqualTo(protocol);
        assertThat(b.connection().peerCertificates()).isEmpty();
        assertThat(delivered.take().line()).isEqualTo("c\rd");
        assertThat(delivered.take().line()).isEmpty();
        assertThat(delivered.take().line()).hasSize(40_000);
      } finally {
        client.close(); // sends close_notify
      }
      assertThat(delivered.take().line()).isEqualTo("the tail");
      events.closed.await(closed -> closed.reason() == CloseReason.PEER_EOF);
    }
  }

  @Test
  void clientAuthRequired_theSinkSeesTheVerifiedSubject() throws Exception {
    try (LineServer server = fixture.start(server().clientAuth(ClientAuth.REQUIRED));
        SSLSocket client = connect(server, TestPki.CLIENT, "TLSv1.3")) {
      client.getOutputStream().write("from a gateway\n".getBytes(UTF_8));
      Delivered line = delivered.take();
      assertThat(line.line()).isEqualTo("from a gateway");
      assertThat(line.connection().peerCertificates().get(0).getSubjectX500Principal().getName())
          .isEqualTo("CN=trusted client");
      assertThat(events.opened.matching(o -> !o.connection().peerCertificates().isEmpty()))
          .hasSize(1);
    }
  }

  @Test
  void clientAuthRequired_withoutACertificate_isRefusedAndReportedOnce() throws Exception {
    try (LineServer server = fixture.start(server().clientAuth(ClientAuth.REQUIRED))) {
      try (SSLSocket client = connect(server, null, "TLSv1.3")) {
        client.getOutputStream().write("no certificate\n".getBytes(UTF_8));
        assertThatThrownBy(() -> client.getInputStream().read()).isInstanceOf(IOException.class);
      }
      events.handshakeFailed.await(failed -> failed.error() instanceof SSLException);
      assertThat(events.opened.all()).isEmpty();
      assertThat(delivered.isEmpty()).isTrue();
    }
  }

  @Test
  void clientAuthRequired_anUntrustedCertificate_isRefused() throws Exception {
    try (LineServer server = fixture.start(server().clientAuth(ClientAuth.REQUIRED))) {
      try (SSLSocket client = connect(server, TestPki.UNTRUSTED_CLIENT, "TLSv1.2")) {
        assertThatThrownBy(
                () -> {
                  client.startHandshake();
                  client.getOutputStream().write("untrusted\n".getBytes(UTF_8));
                  client.getInputStream().read();
                })
            .isInstanceOf(IOException.class);
      }
      events.handshakeFailed.await(failed -> failed.error() instanceof SSLException);
      assertThat(delivered.isEmpty()).isTrue();
    }
  }

  @Test
  void aPlaintextClient_isClosedAndReported_withoutAStackTrace() throws Exception {
    try (LineServer server = fixture.start(server());
        Socket plain = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
      plain.setSoTimeout((int) TIMEOUT_MILLIS);
      plain.getOutputStream().write("hello in plaintext\n".getBytes(UTF_8));
      InputStream in = plain.getInputStream();
      assertThat(in.read()).isEqualTo(-1);
      events.handshakeFailed.await(
          failed -> failed.error().getMessage().startsWith("not a TLS handshake: first byte 0x68"));
      assertThat(server.stats().connectionsClosed().get(CloseReason.HANDSHAKE_FAILED)).isEqualTo(1);
    }
  }

  @Test
  void aSilentClient_failsAtTheHandshakeTimeout() throws Exception {
    try (LineServer server = fixture.start(server().handshakeTimeout(Duration.ofMillis(200)));
        Socket silent = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
      silent.setSoTimeout((int) TIMEOUT_MILLIS);
      assertThat(silent.getInputStream().read()).isEqualTo(-1);
      events.handshakeFailed.await(failed -> failed.error() instanceof TimeoutException);
    }
  }

  @Test
  void serverClose_sendsCloseNotify() throws Exception {
    LineServer server = fixture.start(server());
    try (SSLSocket client = connect(server, null, "TLSv1.3")) {
      client.getOutputStream().write("before close\n".getBytes(UTF_8));
      assertThat(delivered.take().line()).isEqualTo("before close");
      server.close();
      assertThat(client.getInputStream().read()).as("close_notify reads as EOF").isEqualTo(-1);
    } finally {
      server.close();
    }
  }

  @Test
  void behindAProxy_theHeaderComesFirst_thenTls() throws Exception {
    try (LineServer server = fixture.start(server().proxyProtocol(ProxyProtocol.REQUIRED));
        Socket plain = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
      plain
          .getOutputStream()
          .write("PROXY TCP4 192.0.2.10 198.51.100.1 40001 9000\r\n".getBytes(UTF_8));
      SSLSocket client =
          (SSLSocket)
              TestPki.shared()
                  .clientContext(null)
                  .getSocketFactory()
                  .createSocket(plain, "localhost", server.port(), true);
      try {
        client.getOutputStream().write("proxied and encrypted\n".getBytes(UTF_8));
        Delivered line = delivered.take();
        assertThat(line.line()).isEqualTo("proxied and encrypted");
        assertThat(line.connection().remoteAddress())
            .isEqualTo(new InetSocketAddress("192.0.2.10", 40001));
        assertThat(line.connection().tlsSession()).isNotNull();
      } finally {
        client.close();
      }
    }
  }

  @Test
  void pemFiles_makeAServerContext_thatVerifiesClients() throws Exception {
    TestPki pki = TestPki.shared();
    SSLContext context =
        PemFiles.serverContext(
            pki.chainPem(TestPki.SERVER), pki.keyPem(TestPki.SERVER), pki.caPem());
    try (LineServer server =
            fixture.start(
                LineServer.builder()
                    .port(0)
                    .tls(context)
                    .clientAuth(ClientAuth.REQUIRED)
                    .connectionSink(delivered));
        SSLSocket client = connect(server, TestPki.CLIENT, "TLSv1.3")) {
      client.getOutputStream().write("via PEM\n".getBytes(UTF_8));
      Delivered line = delivered.take();
      assertThat(line.line()).isEqualTo("via PEM");
      assertThat(line.connection().peerCertificates()).hasSize(2);
    }
  }

  @Test
  void pemFiles_aFileWithoutAKey_failsNamingIt() throws Exception {
    TestPki pki = TestPki.shared();
    Path notAKey = pki.chainPem(TestPki.SERVER);
    assertThatThrownBy(() -> PemFiles.serverContext(notAKey, notAKey))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(notAKey + ": no -----BEGIN PRIVATE KEY----- block");
    assertThatThrownBy(() -> PemFiles.serverContext(pki.keyPem(TestPki.SERVER), notAKey))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no certificate");
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void aCertificateChainOver47KB_servesSslSocketClients(String protocol) throws Exception {
    SSLContext big = TestPki.shared().context(TestPki.BIG_SERVER, true);
    try (LineServer server = fixture.start(server().tls(big));
        SSLSocket client = connect(server, null, protocol)) {
      client.getOutputStream().write("behind a long chain\n".getBytes(UTF_8));
      assertThat(delivered.take().line()).isEqualTo("behind a long chain");
      assertThat(client.getSession().getPeerCertificates()[0].getEncoded().length)
          .isGreaterThan(47 * 1024);
    }
    assertThat(events.handshakeFailed.all()).isEmpty();
  }

  @Test
  void aClientThatNeverReadsTheServersFlight_failsAtTheHandshakeTimeout() throws Exception {
    SSLContext big = TestPki.shared().context(TestPki.BIG_SERVER, true);
    try (LineServer server =
            fixture.start(server().tls(big).handshakeTimeout(Duration.ofMillis(300)));
        Socket client = new Socket()) {
      client.setReceiveBufferSize(1024);
      client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()));
      client.getOutputStream().write(ClientHellos.of("TLSv1.3"));
      events.handshakeFailed.await(failed -> failed.error() instanceof TimeoutException);
      assertThat(server.stats().connectionsClosed().get(CloseReason.HANDSHAKE_FAILED)).isEqualTo(1);
    }
  }

  @Test
  void manyHandshakesAtOnce_anEstablishedClientsLinesStillFlow() throws Exception {
    byte[] hello = ClientHellos.of("TLSv1.3");
    ExecutorService flood = Executors.newFixedThreadPool(8);
    try (LineServer server = fixture.start(server().tlsThreads(2));
        SSLSocket established = connect(server, null, "TLSv1.3")) {
      OutputStream out = established.getOutputStream();
      out.write("before the flood\n".getBytes(UTF_8));
      assertThat(delivered.take().line()).isEqualTo("before the flood");
      List<Future<Integer>> answers = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        answers.add(flood.submit(() -> firstByteAnswering(server, hello)));
      }
      for (int i = 0; i < 100; i++) {
        out.write(("line " + i + "\n").getBytes(UTF_8));
        out.flush();
        assertThat(delivered.take().line()).isEqualTo("line " + i);
      }
      for (Future<Integer> answer : answers) {
        assertThat(answer.get(Lines.TIMEOUT_SECONDS, TimeUnit.SECONDS))
            .as("a handshake record, the ServerHello")
            .isEqualTo(22);
      }
      assertThat(Threads.serverThreads())
          .filteredOn(name -> name.startsWith("line-server-tls-"))
          .hasSizeBetween(1, 2);
    } finally {
      flood.shutdownNow();
    }
  }

  /** One I/O thread: were the handshake's work done on it, the established client would wait. */
  @Test
  void aHandshakeStuckInItsKeyManager_delaysNoEstablishedConnection() throws Exception {
    AtomicBoolean stuck = new AtomicBoolean();
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    SSLContext context =
        TestPki.shared()
            .serverContext(
                () -> {
                  if (stuck.get()) {
                    entered.countDown();
                    await(release);
                  }
                });
    try (LineServer server = fixture.start(server().tls(context).ioThreads(1).tlsThreads(1));
        SSLSocket established = connect(server, null, "TLSv1.3");
        Socket handshaking = raw(server)) {
      try {
        OutputStream out = established.getOutputStream();
        out.write("before\n".getBytes(UTF_8));
        assertThat(delivered.take().line()).isEqualTo("before");
        stuck.set(true);
        handshaking.getOutputStream().write(ClientHellos.of("TLSv1.3"));
        assertThat(entered.await(Lines.TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();

        out.write("while a handshake is stuck\n".getBytes(UTF_8));
        out.flush();
        assertThat(delivered.take().line()).isEqualTo("while a handshake is stuck");
      } finally {
        release.countDown();
      }
      assertThat(handshaking.getInputStream().read()).as("the ServerHello, at last").isEqualTo(22);
    }
  }

  @Test
  void aHandshakeTaskThatThrows_failsThatHandshakeOnly() throws Exception {
    AtomicBoolean thrown = new AtomicBoolean();
    SSLContext context =
        TestPki.shared()
            .serverContext(
                () -> {
                  if (thrown.compareAndSet(false, true)) {
                    throw new AssertionError("key manager exploded");
                  }
                });
    try (LineServer server = fixture.start(server().tls(context).tlsThreads(1))) {
      try (SSLSocket first = connect(server, null, "TLSv1.3")) {
        assertThatThrownBy(first::startHandshake).isInstanceOf(IOException.class);
      }
      events.handshakeFailed.await(
          failed ->
              failed.error() instanceof SSLException
                  && failed.error().getCause() instanceof AssertionError
                  && "key manager exploded".equals(failed.error().getCause().getMessage()));
      try (SSLSocket second = connect(server, null, "TLSv1.3")) {
        second.getOutputStream().write("after the failure\n".getBytes(UTF_8));
        assertThat(delivered.take().line()).isEqualTo("after the failure");
      }
      assertThat(events.handshakeFailed.all()).hasSize(1);
      assertThat(server.stats().connectionsClosed().get(CloseReason.HANDSHAKE_FAILED)).isEqualTo(1);
    }
  }

  @Test
  void handshakeTimeout_appliesWhileTheTasksWaitForAThread() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    SSLContext context = TestPki.shared().serverContext(() -> await(release));
    byte[] hello = ClientHellos.of("TLSv1.3");
    try (LineServer server =
        fixture.start(
            server().tls(context).tlsThreads(1).handshakeTimeout(Duration.ofMillis(300)))) {
      try (Socket running = raw(server);
          Socket queued = raw(server)) {
        running.getOutputStream().write(hello);
        queued.getOutputStream().write(hello);
        events.handshakeFailed.await(2, failed -> failed.error() instanceof TimeoutException);
        assertThat(running.getInputStream().read()).isEqualTo(-1);
        assertThat(queued.getInputStream().read()).isEqualTo(-1);
      } finally {
        release.countDown();
      }
    }
  }

  @Test
  void close_whileHandshakeTasksRunAndWait_returnsAndEndsEveryThread() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    AtomicInteger begun = new AtomicInteger();
    SSLContext context =
        TestPki.shared()
            .serverContext(
                () -> {
                  begun.incrementAndGet();
                  entered.countDown();
                  await(new CountDownLatch(1)); // until close() interrupts it
                });
    byte[] hello = ClientHellos.of("TLSv1.3");
    LineServer server = fixture.start(server().tls(context).tlsThreads(1));
    List<Socket> clients = new ArrayList<>();
    try {
      for (int i = 0; i < 5; i++) {
        Socket client = raw(server);
        clients.add(client);
        client.getOutputStream().write(hello);
      }
      assertThat(entered.await(Lines.TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();

      assertTimeoutPreemptively(Duration.ofSeconds(Lines.TIMEOUT_SECONDS), server::close);

      assertThat(begun).as("tasks begun: the queued ones were dropped").hasValue(1);
    } finally {
      server.close();
      for (Socket client : clients) {
        client.close();
      }
    }
  }

  @Test
  void tlsThreads_outOfRangeOrWithoutTls_fails() {
    assertThatThrownBy(() -> LineServer.builder().tlsThreads(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("tlsThreads: 0 (expected: 1..1024)");
    assertThatThrownBy(() -> LineServer.builder().port(0).sink(line -> {}).tlsThreads(2).start())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("tlsThreads: 2 without tls (expected: tls(SSLContext) too)");
  }

  /** Sends {@code hello} and returns the first byte the server answers with. */
  private static int firstByteAnswering(LineServer server, byte[] hello) throws IOException {
    try (Socket socket = raw(server)) {
      socket.getOutputStream().write(hello);
      return socket.getInputStream().read();
    }
  }

  private static Socket raw(LineServer server) throws IOException {
    Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.port());
    socket.setSoTimeout((int) TIMEOUT_MILLIS);
    return socket;
  }

  /** Waits for {@code latch}; an interrupt (close() ending the TLS threads) fails the task. */
  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(3 * Lines.TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        throw new IllegalStateException("not released in time");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Test
  void clientAuthWithoutTls_failsAtStart() {
    assertThatThrownBy(
            () ->
                LineServer.builder()
                    .port(0)
                    .sink(line -> {})
                    .clientAuth(ClientAuth.REQUIRED)
                    .start())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("clientAuth: REQUIRED without tls (expected: tls(SSLContext) too)");
  }

  /**
   * An {@link SSLContext} whose engines fail while {@code failing} is set (a context can fail after
   * start() made its first engine): only the connection that needed one is lost.
   */
  private static SSLContext failingWhile(AtomicBoolean failing) throws Exception {
    SSLContext real = TestPki.shared().serverContext();
    SSLContextSpi spi =
        new SSLContextSpi() {
          @Override
          protected void engineInit(
              @Nullable KeyManager[] km, @Nullable TrustManager[] tm, @Nullable SecureRandom sr) {}

          @Override
          protected SSLSocketFactory engineGetSocketFactory() {
            return real.getSocketFactory();
          }

          @Override
          protected SSLServerSocketFactory engineGetServerSocketFactory() {
            return real.getServerSocketFactory();
          }

          @Override
          protected SSLEngine engineCreateSSLEngine() {
            if (failing.get()) {
              throw new IllegalStateException("no engine now");
            }
            return real.createSSLEngine();
          }

          @Override
          protected SSLEngine engineCreateSSLEngine(String host, int port) {
            return engineCreateSSLEngine();
          }

          @Override
          protected SSLSessionContext engineGetServerSessionContext() {
            return real.getServerSessionContext();
          }

          @Override
          protected SSLSessionContext engineGetClientSessionContext() {
            return real.getClientSessionContext();
          }
        };
    return new SSLContext(spi, real.getProvider(), real.getProtocol()) {};
  }

  @Test
  void engineFailsForOneConnection_onlyItIsClosed_theLoopServesTheNext() throws Exception {
    AtomicBoolean failing = new AtomicBoolean();
    try (LineServer server =
            fixture.start(
                fixture
                    .builder()
                    .ioThreads(1)
                    .tls(failingWhile(failing))
                    .connectionSink(delivered));
        LogCapture log = new LogCapture()) {
      failing.set(true);
      try (Client lost = new Client(server)) {
        assertThat(lost.awaitServerClose()).isTrue();
      }
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofMillis(TIMEOUT_MILLIS))
          .until(() -> server.stats().connectionsClosed().get(CloseReason.SERVER_ERROR) == 1L);
      assertThat(server.stats().connectionsOpen()).isZero();
      assertThat(log.atLeast(java.util.logging.Level.SEVERE))
          .anyMatch(r -> r.getMessage().contains("setting up"));

      failing.set(false);
      SSLSocket client = connect(server, null, "TLSv1.3");
      try {
        client.getOutputStream().write("after\n".getBytes(UTF_8));
        assertThat(delivered.take().line()).isEqualTo("after");
      } finally {
        client.close();
      }
    }
  }

  @Test
  void handshakeStalledInsideItsFirstRecord_handshakeTimeout_notLineTimeout() throws Exception {
    try (LineServer server =
            fixture.start(
                server()
                    .lineTimeout(Duration.ofMillis(300))
                    .handshakeTimeout(Duration.ofMillis(1500)));
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
      byte[] hello = ClientHellos.of("TLSv1.3");
      socket.getOutputStream().write(hello, 0, hello.length / 2);
      socket.getOutputStream().flush();
      ListenerEvents.HandshakeFailed failed = events.handshakeFailed.await(f -> true);
      assertThat(failed.error()).isInstanceOf(TimeoutException.class);
      assertThat(server.stats().connectionsClosed().get(CloseReason.LINE_TIMEOUT)).isZero();
    }
  }
}
