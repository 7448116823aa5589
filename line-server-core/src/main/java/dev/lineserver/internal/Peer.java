package dev.lineserver.internal;

import dev.lineserver.ConnectionInfo;
import java.net.SocketAddress;

/** The immutable {@link ConnectionInfo} of one accepted connection. */
record Peer(long id, SocketAddress remoteAddress, SocketAddress localAddress)
    implements ConnectionInfo {

  @Override
  public String toString() {
    return "#" + id + " " + remoteAddress;
  }
}
