package dev.lineserver.internal;

import dev.lineserver.testing.TestPki;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.Security;
import java.util.Arrays;
import java.util.SplittableRandom;
import javax.net.ssl.SSLContext;

/**
 * Run by {@code TlsCodecTest} in a child JVM, because the JDK reads {@code jdk.tls.keyLimits} once
 * per JVM: with AES-GCM keys good for 16 KiB, a TLS 1.3 client and the stage both update their keys
 * many times while the client sends 256 KiB through a {@link TlsLink}, then again while the stage
 * also wraps 256 KiB of replies ({@link TlsCodec#wrap}). Prints "key updates OK" once every byte
 * arrived both ways and the stage answered; anything else is a failure. Argument: the directory of
 * a {@link TestPki}.
 */
final class TlsKeyUpdateProgram {
  private TlsKeyUpdateProgram() {}

  public static void main(String[] args) throws Exception {
    Security.setProperty("jdk.tls.keyLimits", "AES/GCM/NoPadding KeyUpdate 2^14");
    TestPki pki = TestPki.load(Path.of(args[0]));
    SSLContext server = pki.serverContext();
    SSLContext client = pki.clientContext(null);
    long seed = 0x4B45_5955L;
    TlsLink link =
        new TlsLink(
            TlsLink.serverEngine(server, "TLSv1.3"),
            TlsLink.clientEngine(client, "TLSv1.3"),
            TlsLink.random(new SplittableRandom(seed), 20_000));
    link.handshake();
    long handshakeBytes = link.takenFromStage();

    byte[] data = new byte[256 * 1024];
    new SplittableRandom(seed).nextBytes(data);
    for (int from = 0; from < data.length; from += 4096) {
      link.send(Arrays.copyOfRange(data, from, Math.min(data.length, from + 4096)));
      link.pump();
    }

    if (!Arrays.equals(link.serverReceived(), data)) {
      throw new AssertionError("plaintext differs, " + link.serverReceived().length + " bytes");
    }
    if (link.clientFailure() != null) {
      throw new AssertionError("client failed", link.clientFailure());
    }
    long keyUpdateBytes = link.takenFromStage() - handshakeBytes;
    if (keyUpdateBytes == 0) {
      throw new AssertionError("the stage sent no KeyUpdate: is jdk.tls.keyLimits in effect?");
    }

    // Both ways at once: the stage wraps replies (and its own key updates, past 16 KiB of them)
    // between the client's records and key updates; each side must get the other's bytes exactly.
    byte[] replies = new byte[256 * 1024];
    new SplittableRandom(seed + 1).nextBytes(replies);
    ByteBuffer toSend = ByteBuffer.wrap(replies);
    for (int from = 0; from < data.length || toSend.hasRemaining(); from += 4096) {
      if (from < data.length) {
        link.send(Arrays.copyOfRange(data, from, Math.min(data.length, from + 4096)));
      }
      ByteBuffer reply = toSend.slice().limit(Math.min(4096, toSend.remaining()));
      toSend.position(toSend.position() + link.stage.wrap(reply));
      link.pump();
    }
    byte[] both = new byte[2 * data.length];
    System.arraycopy(data, 0, both, 0, data.length);
    System.arraycopy(data, 0, both, data.length, data.length);
    if (!Arrays.equals(link.serverReceived(), both)) {
      throw new AssertionError("plaintext differs while replying");
    }
    if (!Arrays.equals(link.clientReceived(), replies)) {
      throw new AssertionError("replies differ, " + link.clientReceived().length + " bytes");
    }
    if (link.clientFailure() != null) {
      throw new AssertionError("client failed while replies were sent", link.clientFailure());
    }
    System.out.println("key updates OK: the stage sent " + keyUpdateBytes + " bytes of them");
  }
}
