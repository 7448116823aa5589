package dev.lineserver.internal;

import dev.lineserver.ConnectionInfo;
import java.lang.System.Logger;
import org.jspecify.annotations.Nullable;

/**
 * One server's logger (its messages name the server, if it has a name) and its rate limits for the
 * reports of the listener's defaults and of the engine, one per kind of problem: a flood on one
 * server never hides another server's reports. Reached through a connection ({@link #of}) or, on a
 * thread running the server's work, {@link #current}; otherwise one shared, unnamed set.
 */
public final class Reports {
  private static final Reports SHARED = new Reports(null);

  /** The server's logger: {@code dev.lineserver}, its messages prefixed with the server's name. */
  public final Logger log;

  public final RateLimited tooLong;
  public final RateLimited sinkFailures;
  public final RateLimited sinkErrors;
  public final RateLimited restartLimits;
  public final RateLimited handshakes;
  public final RateLimited sendQueueFull;
  public final RateLimited refusals;
  final RateLimited tlsFailures;
  final RateLimited sinkRejections;
  final RateLimited listenerThrew;
  final RateLimited unexpected;

  /** The reports of an unnamed server. */
  Reports() {
    this(null);
  }

  /** The reports of a server named {@code name}, or of an unnamed one. */
  Reports(@Nullable String name) {
    this.log = name == null ? Events.LOGGER : new ServerLogger(Events.LOGGER, name);
    this.tooLong = new RateLimited(log);
    this.sinkFailures = new RateLimited(log);
    this.sinkErrors = new RateLimited(log);
    this.restartLimits = new RateLimited(log);
    this.handshakes = new RateLimited(log);
    this.sendQueueFull = new RateLimited(log);
    this.refusals = new RateLimited(log);
    this.tlsFailures = new RateLimited(log);
    this.sinkRejections = new RateLimited(log);
    this.listenerThrew = new RateLimited(log);
    this.unexpected = new RateLimited(log);
  }

  /** The reports of the server that {@code connection} belongs to. */
  public static Reports of(ConnectionInfo connection) {
    return connection instanceof Peer peer ? peer.reports() : SHARED;
  }

  /**
   * The reports of the server whose thread this is, or whose sink or listener this thread runs for
   * it on a sink executor; else the shared set.
   */
  public static Reports current() {
    return Callbacks.current() instanceof Reports reports ? reports : SHARED;
  }
}
