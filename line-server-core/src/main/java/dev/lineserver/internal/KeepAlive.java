package dev.lineserver.internal;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicBoolean;
import jdk.net.ExtendedSocketOptions;

/**
 * TCP keepalive for accepted sockets: off, or on with these timings (seconds, and probes).
 * Immutable; the acceptor thread applies it to each admitted TCP socket before an I/O thread sees
 * the socket. Where the JDK cannot set the timings, SO_KEEPALIVE alone is set (the OS's timings),
 * logged once.
 */
public record KeepAlive(boolean on, int idleSeconds, int intervalSeconds, int count) {
  /** Linux's limits for TCP_KEEPIDLE and TCP_KEEPINTVL, in seconds. */
  public static final int MAX_SECONDS = 32767;

  /** Linux's limit for TCP_KEEPCNT. */
  public static final int MAX_COUNT = 127;

  private static final AtomicBoolean TIMINGS_UNSUPPORTED_LOGGED = new AtomicBoolean();

  /** Sets the options on {@code channel}, a TCP socket; a Unix-domain socket is left as it is. */
  void apply(SocketChannel channel, SocketAddress remote) {
    if (!(remote instanceof InetSocketAddress)) {
      return;
    }
    try {
      channel.setOption(StandardSocketOptions.SO_KEEPALIVE, on);
      if (!on) {
        return;
      }
      if (!channel.supportedOptions().contains(ExtendedSocketOptions.TCP_KEEPIDLE)
          || !channel.supportedOptions().contains(ExtendedSocketOptions.TCP_KEEPINTERVAL)
          || !channel.supportedOptions().contains(ExtendedSocketOptions.TCP_KEEPCOUNT)) {
        if (TIMINGS_UNSUPPORTED_LOGGED.compareAndSet(false, true)) {
          Reports.current()
              .log
              .log(
                  Level.INFO,
                  () ->
                      "TCP keepalive timings cannot be set on "
                          + System.getProperty("os.name")
                          + "; accepted sockets use SO_KEEPALIVE with the OS's timings");
        }
        return;
      }
      channel.setOption(ExtendedSocketOptions.TCP_KEEPIDLE, idleSeconds);
      channel.setOption(ExtendedSocketOptions.TCP_KEEPINTERVAL, intervalSeconds);
      channel.setOption(ExtendedSocketOptions.TCP_KEEPCOUNT, count);
    } catch (IOException | UnsupportedOperationException e) {
      // A socket the peer already reset; its first read reports that.
      Reports.current().log.log(Level.DEBUG, () -> "TCP keepalive on " + remote + " failed: " + e);
    }
  }
}
