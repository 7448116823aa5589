package dev.lineserver;

import java.net.SocketAddress;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;

/**
 * What the server knows about one accepted connection. Immutable; safe to keep after the connection
 * closed, and it holds none of the connection's buffers.
 */
public interface ConnectionInfo {

  /** A number unique within this JVM, increasing in the order connections were accepted. */
  long id();

  /**
   * The client's address: an {@link java.net.InetSocketAddress}, or a {@link
   * java.net.UnixDomainSocketAddress} (no IP address) on a Unix-domain socket. With the PROXY
   * protocol, the original client's address from the header, not the proxy's.
   */
  SocketAddress remoteAddress();

  /** The address the connection was accepted on. */
  SocketAddress localAddress();

  /**
   * The address of the proxy that forwarded the connection with a PROXY protocol header naming the
   * client; {@code null} for a direct connection (or a header that named no client).
   */
  default @Nullable SocketAddress proxyAddress() {
    return null;
  }

  /**
   * The TLS session of a connection to a server with {@code tls(...)}: its protocol, cipher suite
   * and peer; {@code null} without TLS.
   */
  default @Nullable SSLSession tlsSession() {
    return null;
  }

  /**
   * The client's certificate chain, verified by the server's trust managers, client first; empty
   * without TLS or when the client sent none ({@link ClientAuth#OPTIONAL}). {@code
   * peerCertificates().get(0).getSubjectX500Principal()} names a gateway.
   */
  default List<X509Certificate> peerCertificates() {
    return List.of();
  }
}
