package dev.lineserver;

import java.net.SocketAddress;

/**
 * How the listener's defaults name a connection. They log through the server's {@code
 * internal.Reports}: its logger (the library's one, {@code dev.lineserver}, with the server's name
 * in front of each message) and its rate limits.
 */
final class Log {
  private Log() {}

  /**
   * Loads this class now: the listener's defaults use it, {@code acceptFailed} when the process has
   * run out of file descriptors, and loading a class then may need one.
   */
  static void load() {}

  static String describe(ConnectionInfo connection) {
    SocketAddress proxy = connection.proxyAddress();
    return "connection #"
        + connection.id()
        + " from "
        + connection.remoteAddress()
        + (proxy == null ? "" : " via " + proxy);
  }
}
