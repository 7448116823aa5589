package dev.lineserver.internal;

import dev.lineserver.ConnectionInfo;
import dev.lineserver.SendResult;
import java.net.InetAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;

/**
 * The {@link ConnectionInfo} of one accepted connection. Its addresses change at most once, when a
 * PROXY protocol header names the client, its TLS session is set once the handshake is done, and
 * {@link #countedAddress} once by {@link Admission}: each before the connection is announced to a
 * listener or sink (at accept, or on the I/O thread); after that it is immutable. Its {@code
 * connection}, the way to send and close, is set while the connection is open or closing and
 * cleared once it closed, so a kept handle holds none of the connection's objects.
 */
final class Peer implements ConnectionInfo {
  private final long id;
  private SocketAddress remoteAddress;
  private final SocketAddress localAddress;
  private @Nullable SocketAddress proxyAddress;
  private @Nullable SSLSession tlsSession;
  private final Reports reports;
  private @Nullable InetAddress countedAddress;
  private volatile @Nullable Connection connection;

  Peer(long id, SocketAddress remoteAddress, SocketAddress localAddress, Reports reports) {
    this.id = id;
    this.remoteAddress = remoteAddress;
    this.localAddress = localAddress;
    this.reports = reports;
  }

  /** The rate limits of this connection's server. */
  Reports reports() {
    return reports;
  }

  /** The client behind the proxy, from its PROXY header; the socket's peer becomes the proxy. */
  void proxied(SocketAddress client) {
    proxyAddress = remoteAddress;
    remoteAddress = client;
  }

  void secured(SSLSession session) {
    tlsSession = session;
  }

  /** The address whose per-address limit this connection counts against; null for none. */
  @Nullable InetAddress countedAddress() {
    return countedAddress;
  }

  void countedUnder(InetAddress address) {
    if (countedAddress != null) {
      throw new IllegalStateException("countedUnder: already counted under " + countedAddress);
    }
    countedAddress = address;
  }

  /** The connection opened: sends and closes go to it. */
  void attach(Connection connection) {
    this.connection = connection;
  }

  /** The connection closed: sends are refused as to a closed connection. */
  void detach() {
    connection = null;
  }

  @Override
  public SendResult send(byte[] bytes) {
    return send(bytes, 0, bytes.length);
  }

  @Override
  public SendResult send(byte[] bytes, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, bytes.length);
    Connection open = connection;
    return open == null ? SendResult.CLOSED : open.send(ByteBuffer.wrap(bytes), offset, length);
  }

  @Override
  public SendResult send(ByteBuffer bytes) {
    Connection open = connection;
    return open == null ? SendResult.CLOSED : open.send(bytes, bytes.position(), bytes.remaining());
  }

  @Override
  public SendResult send(CharSequence text) {
    Objects.requireNonNull(text, "text");
    Connection open = connection;
    return open == null ? SendResult.CLOSED : open.send(text, false);
  }

  @Override
  public SendResult sendLine(CharSequence text) {
    Objects.requireNonNull(text, "text");
    Connection open = connection;
    return open == null ? SendResult.CLOSED : open.send(text, true);
  }

  @Override
  public void close() {
    Connection open = connection;
    if (open != null) {
      open.closeByApplication(false);
    }
  }

  @Override
  public void closeNow() {
    Connection open = connection;
    if (open != null) {
      open.closeByApplication(true);
    }
  }

  @Override
  public long id() {
    return id;
  }

  @Override
  public SocketAddress remoteAddress() {
    return remoteAddress;
  }

  @Override
  public SocketAddress localAddress() {
    return localAddress;
  }

  @Override
  public @Nullable SocketAddress proxyAddress() {
    return proxyAddress;
  }

  @Override
  public @Nullable SSLSession tlsSession() {
    return tlsSession;
  }

  @Override
  public List<X509Certificate> peerCertificates() {
    SSLSession session = tlsSession;
    if (session == null) {
      return List.of();
    }
    try {
      List<X509Certificate> chain = new ArrayList<>();
      for (Certificate certificate : session.getPeerCertificates()) {
        if (certificate instanceof X509Certificate x509) {
          chain.add(x509);
        }
      }
      return List.copyOf(chain);
    } catch (SSLPeerUnverifiedException e) {
      return List.of();
    }
  }

  @Override
  public String toString() {
    SocketAddress proxy = proxyAddress;
    return "#" + id + " " + remoteAddress + (proxy == null ? "" : " via " + proxy);
  }
}
