package dev.lineserver.internal;

import dev.lineserver.ConnectionInfo;

/**
 * One server's rate limits for the reports of the listener's defaults and of the engine, one per
 * kind of problem: a flood on one server never hides another server's reports. Reached through a
 * connection ({@link #of}); for a {@link ConnectionInfo} the server did not make, one shared set.
 */
public final class Reports {
  private static final Reports SHARED = new Reports();

  public final RateLimited tooLong = new RateLimited(Events.LOGGER);
  public final RateLimited sinkFailures = new RateLimited(Events.LOGGER);
  public final RateLimited sinkErrors = new RateLimited(Events.LOGGER);
  public final RateLimited restartLimits = new RateLimited(Events.LOGGER);
  public final RateLimited handshakes = new RateLimited(Events.LOGGER);
  public final RateLimited sendQueueFull = new RateLimited(Events.LOGGER);
  final RateLimited tlsFailures = new RateLimited(Events.LOGGER);
  final RateLimited sinkRejections = new RateLimited(Events.LOGGER);

  /** The reports of the server that {@code connection} belongs to. */
  public static Reports of(ConnectionInfo connection) {
    return connection instanceof Peer peer ? peer.reports() : SHARED;
  }
}
