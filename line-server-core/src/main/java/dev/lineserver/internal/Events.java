package dev.lineserver.internal;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.function.Supplier;

/**
 * Calls the user's listener so that a listener that throws never breaks the thread calling it, and
 * says which throwables of user code are contained: all but those of a failing JVM. Holds the
 * library's one logger, public only for the listener's defaults in {@code dev.lineserver}.
 */
public final class Events {
  /** The library's logger, {@code dev.lineserver}: the engine's and the listener defaults'. */
  public static final Logger LOGGER = System.getLogger("dev.lineserver");

  private Events() {}

  static void report(Runnable event) {
    try {
      event.run();
    } catch (Throwable e) {
      rethrowIfFatal(e);
      Reports.current()
          .listenerThrew
          .log(Level.WARNING, () -> "LineServerListener threw " + e + "; ignored", e);
    }
  }

  /** Logs, at most once a second per server, TLS failing on an open connection. */
  static void tlsFailed(Peer peer, Exception error) {
    peer.reports()
        .tlsFailures
        .log(Level.WARNING, () -> "TLS failed on " + peer + ": " + error.getMessage());
  }

  /** Logs, at most once a second per server, the sink executor refusing a connection's lines. */
  static void sinkRejected(Peer peer, Supplier<String> message) {
    peer.reports().sinkRejections.log(Level.WARNING, message);
  }

  /**
   * True for an error that says the JVM itself is failing: {@link OutOfMemoryError}, {@link
   * InternalError}, {@link UnknownError}. Every other throwable of user code is contained to its
   * line or connection; a {@link StackOverflowError} too, since its stack has unwound once caught.
   */
  static boolean isFatal(Throwable error) {
    return error instanceof VirtualMachineError && !(error instanceof StackOverflowError);
  }

  static void rethrowIfFatal(Throwable error) {
    if (isFatal(error)) {
      throw (VirtualMachineError) error;
    }
  }
}
