package dev.lineserver.testing;

import java.nio.ByteBuffer;
import java.util.Locale;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;

/**
 * A probe, not a test: where a JDK server engine spends a full handshake's time, in {@code unwrap},
 * in {@code wrap} or in its delegated tasks (NEED_TASK), for TLS 1.3 and 1.2 with the {@link
 * TestPki} server (EC P-256), with and without a client certificate. Only the server's calls are
 * timed; a fresh client context each time, so no handshake resumes. Argument: handshakes per case
 * (500); the first round warms up and is not printed.
 */
public final class TlsTaskProbe {
  private long unwrapNanos;
  private long wrapNanos;
  private long taskNanos;
  private int needTask;
  private int tasks;

  private TlsTaskProbe() {}

  public static void main(String[] args) throws Exception {
    int handshakes = args.length > 0 ? Integer.parseInt(args[0]) : 500;
    System.out.printf(Locale.ROOT, "java %s%n", System.getProperty("java.version"));
    System.out.println(
        "case                 unwrap ms  wrap ms  tasks ms  in tasks  NEED_TASK  tasks/handshake");
    for (String protocol : new String[] {"TLSv1.3", "TLSv1.2"}) {
      for (boolean clientAuth : new boolean[] {false, true}) {
        for (int round = 0; round < 2; round++) {
          TlsTaskProbe probe = new TlsTaskProbe();
          for (int i = 0; i < handshakes; i++) {
            probe.handshake(protocol, clientAuth);
          }
          if (round == 1) {
            probe.print(protocol + (clientAuth ? " client cert" : ""), handshakes);
          }
        }
      }
    }
  }

  private void print(String name, int handshakes) {
    double total = unwrapNanos + wrapNanos + taskNanos;
    System.out.printf(
        Locale.ROOT,
        "%-20s %9.3f %8.3f %9.3f %8.1f%% %10.1f %16.1f%n",
        name,
        unwrapNanos / 1e6 / handshakes,
        wrapNanos / 1e6 / handshakes,
        taskNanos / 1e6 / handshakes,
        100 * taskNanos / total,
        needTask / (double) handshakes,
        tasks / (double) handshakes);
  }

  private void handshake(String protocol, boolean clientAuth) throws Exception {
    TestPki pki = TestPki.shared();
    SSLEngine server = pki.serverContext().createSSLEngine();
    server.setUseClientMode(false);
    server.setEnabledProtocols(new String[] {protocol});
    server.setNeedClientAuth(clientAuth);
    SSLContext clientContext = pki.clientContext(clientAuth ? TestPki.CLIENT : null);
    SSLEngine client = clientContext.createSSLEngine("localhost", 443);
    client.setUseClientMode(true);
    client.setEnabledProtocols(new String[] {protocol});
    ByteBuffer toServer = ByteBuffer.allocate(1 << 17);
    ByteBuffer toClient = ByteBuffer.allocate(1 << 17);
    client.beginHandshake();
    server.beginHandshake();
    for (int step = 0; step < 100; step++) {
      drive(client, toClient, toServer, false);
      drive(server, toServer, toClient, true);
      if (client.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING
          && server.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING
          && toServer.position() == 0
          && toClient.position() == 0) {
        return;
      }
    }
    throw new AssertionError("no handshake: " + client.getHandshakeStatus());
  }

  /** Lets {@code engine} do all it can with {@code in}; times the server's calls. */
  private void drive(SSLEngine engine, ByteBuffer in, ByteBuffer out, boolean timed)
      throws SSLException {
    ByteBuffer plaintext = ByteBuffer.allocate(1 << 16);
    ByteBuffer none = ByteBuffer.allocate(0);
    in.flip();
    while (true) {
      HandshakeStatus status = engine.getHandshakeStatus();
      long start = System.nanoTime();
      if (status == HandshakeStatus.NEED_TASK) {
        needTask += timed ? 1 : 0;
        for (Runnable t = engine.getDelegatedTask(); t != null; t = engine.getDelegatedTask()) {
          tasks += timed ? 1 : 0;
          t.run();
        }
        taskNanos += timed ? System.nanoTime() - start : 0;
      } else if (status == HandshakeStatus.NEED_WRAP) {
        engine.wrap(none, out);
        wrapNanos += timed ? System.nanoTime() - start : 0;
      } else if (in.hasRemaining()) {
        plaintext.clear();
        SSLEngineResult result = engine.unwrap(in, plaintext);
        unwrapNanos += timed ? System.nanoTime() - start : 0;
        if (result.bytesConsumed() == 0 && result.getHandshakeStatus() == status) {
          break;
        }
      } else {
        break;
      }
    }
    in.compact();
  }
}
