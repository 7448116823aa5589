package dev.lineserver.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.net.ssl.SSLEngine;

/**
 * A JDK client's first flight, its ClientHello, as bytes: a raw socket that sends it makes the
 * server do a full handshake's work (key exchange, signature) at no cost to the sender.
 */
public final class ClientHellos {
  private ClientHellos() {}

  /** A ClientHello offering only {@code protocol} ({@code "TLSv1.3"} or {@code "TLSv1.2"}). */
  public static byte[] of(String protocol) throws GeneralSecurityException, IOException {
    SSLEngine client = TestPki.shared().clientContext(null).createSSLEngine("localhost", 443);
    client.setUseClientMode(true);
    client.setEnabledProtocols(new String[] {protocol});
    ByteBuffer out = ByteBuffer.allocate(client.getSession().getPacketBufferSize());
    client.wrap(ByteBuffer.allocate(0), out);
    return Arrays.copyOf(out.array(), out.position());
  }
}
