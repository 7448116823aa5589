package dev.lineserver.internal;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lineserver.CloseReason;
import dev.lineserver.testing.TestPki;
import java.nio.ByteBuffer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.Test;

/** The TLS stage against a client engine in memory; the probe writes the stage's flights. */
final class TlsStageTest {
  private static final int MAX_ROUNDS = 1_000;

  private static final long LINE_TIMEOUT = 1_000;

  private final StageProbe probe = new StageProbe(new Settings.Timeouts(0, LINE_TIMEOUT, 0, 0));
  private SSLEngine client;
  private TlsStage stage;
  private final ByteBuffer toServer = ByteBuffer.allocate(64 * 1024);
  private final ByteBuffer fromServer = ByteBuffer.allocate(64 * 1024);
  private final ByteBuffer clientPlaintext = ByteBuffer.allocate(64 * 1024);

  private void connect() throws Exception {
    TestPki pki = TestPki.shared();
    SSLContext server = pki.serverContext();
    SSLEngine engine = TlsLink.serverEngine(server, "TLSv1.3");
    stage = new TlsStage(probe.next, probe, new TlsCodec(engine, TlsCodec.newPlaintextBuffer()));
    probe.head = stage;
    client = TlsLink.clientEngine(pki.clientContext(null), "TLSv1.3");
    client.beginHandshake();
  }

  /** Drives both engines until the client's handshake is through (or nothing moves). */
  private void handshake() throws SSLException {
    for (int round = 0; round < MAX_ROUNDS; round++) {
      HandshakeStatus status = client.getHandshakeStatus();
      if (status == HandshakeStatus.NOT_HANDSHAKING || status == HandshakeStatus.FINISHED) {
        if (!probe.events.contains("handshakeDone")) {
          deliverToClient();
          stage.read(StageProbe.Next.NO_BYTES);
        }
        return;
      }
      switch (status) {
        case NEED_WRAP -> sendFromClient(ByteBuffer.allocate(0));
        case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> deliverToClient();
        case NEED_TASK -> client.getDelegatedTask().run();
        default -> throw new IllegalStateException(status.toString());
      }
    }
    throw new AssertionError(
        "handshake did not finish: " + client.getHandshakeStatus() + " " + probe.events);
  }

  private void sendFromClient(ByteBuffer appData) throws SSLException {
    toServer.clear();
    SSLEngineResult result = client.wrap(appData, toServer);
    assertThat(result.getStatus())
        .isIn(SSLEngineResult.Status.OK, SSLEngineResult.Status.CLOSED); // CLOSED: close_notify
    toServer.flip();
    stage.read(toServer);
  }

  /** Unwraps at the client what the stage flushed, as far as the client takes it now. */
  private void deliverToClient() throws SSLException {
    fromServer.put(probe.toPeer.toByteArray()).flip();
    probe.toPeer.reset();
    try {
      unwrapAtClient(fromServer);
    } finally {
      fromServer.compact();
    }
  }

  private void unwrapAtClient(ByteBuffer wire) throws SSLException {
    while (wire.hasRemaining()) {
      SSLEngineResult result = client.unwrap(wire, clientPlaintext);
      while (client.getHandshakeStatus() == HandshakeStatus.NEED_TASK) {
        client.getDelegatedTask().run();
      }
      if (result.bytesConsumed() == 0) {
        break;
      }
    }
  }

  @Test
  void read_handshakeThenLines_opensOnceAndHandsPlaintextOn() throws Exception {
    connect();
    assertThat(stage.handshake()).isEqualTo("TLS handshake");
    handshake();
    assertThat(probe.events).containsOnlyOnce("handshakeDone");
    assertThat(probe.peer.tlsSession()).isNotNull();
    assertThat(stage.handshake()).isNull();

    sendFromClient(ByteBuffer.wrap("hello\n".getBytes(US_ASCII)));
    assertThat(probe.next.text()).isEqualTo("hello\n");
    assertThat(probe.events).doesNotContain("handshakeFailed");
  }

  @Test
  void read_closeNotify_endsTheStreamAndClosesWithPeerEof() throws Exception {
    connect();
    handshake();
    client.closeOutbound();
    sendFromClient(ByteBuffer.allocate(0));
    assertThat(probe.events).endsWith("next endOfStream", "close " + CloseReason.PEER_EOF);
  }

  @Test
  void read_notTls_failsTheHandshake() throws Exception {
    connect();
    stage.read(ByteBuffer.wrap("GET / HTTP/1.1\r\n".getBytes(US_ASCII)));
    assertThat(probe.events).containsExactly("handshakeFailed");
    assertThat(probe.handshakeFailure).isInstanceOf(SSLException.class);
  }

  @Test
  void endOfStream_beforeAnyByte_justEnds() throws Exception {
    connect();
    stage.endOfStream();
    assertThat(probe.events).isEmpty();
    assertThat(stage.holdsPartialInput()).isFalse();
  }

  @Test
  void endOfStream_insideTheHandshake_failsIt() throws Exception {
    connect();
    sendFromClient(ByteBuffer.allocate(0)); // the ClientHello
    assertThat(stage.holdsPartialInput()).isTrue();
    stage.endOfStream();
    assertThat(probe.events).contains("handshakeFailed");
    assertThat(probe.handshakeFailure).hasMessageContaining("during the TLS handshake");
  }

  @Test
  void endOfStream_afterTheHandshake_reachesTheNextStage() throws Exception {
    connect();
    handshake();
    stage.endOfStream();
    assertThat(probe.events).endsWith("next endOfStream");
  }

  @Test
  void closed_afterTheHandshake_queuesCloseNotify() throws Exception {
    connect();
    handshake();
    probe.toPeer.reset();
    stage.closed();
    assertThat(stage.outbound().hasRemaining()).isTrue();
    assertThat(probe.events).endsWith("next closed");
  }

  @Test
  void closed_insideTheHandshake_sendsNothingMore() throws Exception {
    connect();
    toServer.clear();
    client.wrap(ByteBuffer.allocate(0), toServer);
    toServer.flip();
    ByteBuffer half = toServer.duplicate().limit(toServer.limit() / 2);
    stage.read(half); // half a ClientHello: nothing to answer yet
    stage.closed();
    assertThat(stage.outbound().hasRemaining()).isFalse();
  }

  @Test
  void read_clientHelloSplitAcrossReads_noPartialLineMarkedOnceTheHandshakeIsThrough()
      throws Exception {
    connect();
    toServer.clear();
    client.wrap(ByteBuffer.allocate(0), toServer);
    toServer.flip();
    stage.read(toServer.duplicate().limit(toServer.limit() / 2)); // half the ClientHello
    assertThat(probe.clock.expired(LINE_TIMEOUT)).isEqualTo(CloseReason.LINE_TIMEOUT);
    stage.read(toServer.position(toServer.limit() / 2)); // the rest
    handshake();
    assertThat(probe.events).contains("handshakeDone");
    assertThat(probe.clock.expired(100 * LINE_TIMEOUT)).as("a line timeout while idle").isNull();
  }
}
