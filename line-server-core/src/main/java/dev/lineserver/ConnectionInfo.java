package dev.lineserver;

import java.net.SocketAddress;

/**
 * What the server knows about one accepted connection. Immutable; safe to keep after the connection
 * closed, and it holds none of the connection's buffers.
 */
public interface ConnectionInfo {

  /** A number unique within this JVM, increasing in the order connections were accepted. */
  long id();

  /** The peer's address, usually an {@link java.net.InetSocketAddress}. */
  SocketAddress remoteAddress();

  /** The address the connection was accepted on. */
  SocketAddress localAddress();
}
