package dev.lineserver;

import dev.lineserver.internal.Events;
import dev.lineserver.internal.RateLimited;
import java.lang.System.Logger;
import java.net.SocketAddress;

/**
 * The one logger of the library (the engine's, {@code internal.Events}), how it names a connection,
 * and the rate limit of refusals, which have no connection; the other reports are limited per
 * server ({@code internal.Reports}).
 */
final class Log {
  static final Logger LOGGER = Events.LOGGER;
  static final RateLimited REFUSALS = new RateLimited(LOGGER);

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
