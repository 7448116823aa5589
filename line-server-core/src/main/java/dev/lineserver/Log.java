package dev.lineserver;

import java.lang.System.Logger;

/** The one logger of the library, and how it names a connection. */
final class Log {
  static final Logger LOGGER = System.getLogger("dev.lineserver");

  private Log() {}

  static String describe(ConnectionInfo connection) {
    return "connection #" + connection.id() + " from " + connection.remoteAddress();
  }
}
