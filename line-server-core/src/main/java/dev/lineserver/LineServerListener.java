package dev.lineserver;

import dev.lineserver.internal.Reports;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.SocketAddress;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Observes a server's connections and the problems it meets. Override what you want to handle;
 * every method you do not override logs its event once through {@link System.Logger} (logger {@code
 * dev.lineserver}): problems at {@code WARNING}, the connection lifecycle at {@code DEBUG}. So no
 * problem is ever dropped silently.
 *
 * <p>Threading without a {@link LineServer.Builder#sinkExecutor}: every call about a connection
 * ({@link #connectionOpened}, {@link #lineTooLong}, {@link #sinkFailed}, {@link #sinkError}, {@link
 * #restartLimitReached}, {@link #handshakeFailed}, {@link #connectionClosed}, and {@link
 * #connectionRefused} for a connection refused after its PROXY header, {@link #sendQueueFull}) runs
 * on the I/O thread that owns the connection, as does its sink: one call at a time, in the order of
 * the events, {@code connectionOpened} before its first line and {@code connectionClosed} after its
 * last. {@link #acceptFailed}, and {@code connectionRefused} for a connection refused at accept,
 * run on the acceptor thread. Keep them short: they run where lines are read.
 *
 * <p>With a sink executor: {@code connectionOpened}, {@code lineTooLong}, {@code sendQueueFull},
 * {@code handshakeFailed} and a refusal after the PROXY header still run on the I/O thread, and so
 * do {@code sinkFailed} for a failure of the line buffer itself and the {@code restartLimitReached}
 * it may cause. {@code sinkFailed}, {@code sinkError} and {@code restartLimitReached} for a line
 * given to the sink (or that failed to decode) run on the executor's thread that ran the sink for
 * it, right after that call. {@code connectionClosed} comes after the connection's last sink call,
 * usually on the executor's thread that made it; when the connection's queued lines are dropped
 * (restart limit, a sink's {@link Error}, an executor shut down) it may come from the I/O thread.
 * {@code connectionOpened} still comes before the first sink call and {@code connectionClosed}
 * after every other call about the connection, but the I/O thread's calls are not ordered with the
 * sink's: a {@code lineTooLong} may run while the sink of the same connection runs, or before lines
 * that arrived ahead of it were delivered.
 *
 * <p>The defaults' messages of a server with a {@link LineServer.Builder#name} begin with {@code
 * [name]}.
 *
 * <p>Whatever a listener method throws, an {@link Exception} or an {@link Error} such as {@link
 * AssertionError} or {@link StackOverflowError}, is logged (at most once a second) and otherwise
 * ignored: the server, the thread and the connection go on. Only an error that says the JVM itself
 * is failing ({@link OutOfMemoryError}, {@link InternalError}, {@link UnknownError}) is not
 * contained: it ends the thread that met it, as described for the sink.
 */
public interface LineServerListener {

  /**
   * A connection was accepted and will be read from. With the PROXY protocol, once its header was
   * read: the connection carries the client's address.
   */
  default void connectionOpened(ConnectionInfo connection) {
    Reports.of(connection).log.log(Level.DEBUG, () -> "opened " + Log.describe(connection));
  }

  /** A connection was closed; no line of it will be delivered after this call. */
  default void connectionClosed(ConnectionInfo connection, CloseReason reason) {
    Reports.of(connection)
        .log
        .log(Level.DEBUG, () -> "closed " + Log.describe(connection) + ": " + reason);
  }

  /**
   * A line was longer than {@code maxLineLength} and was discarded without being buffered. The
   * connection stays open and the next line is delivered normally. The default logs at WARNING, at
   * most once a second, counting the ones it left out.
   *
   * @param length the discarded line's length in bytes, without its terminator
   */
  default void lineTooLong(ConnectionInfo connection, long length) {
    Reports.of(connection)
        .tooLong
        .log(
            Level.WARNING,
            () ->
                "discarded a line of "
                    + length
                    + " bytes (too long) from "
                    + Log.describe(connection));
  }

  /**
   * The sink threw for a line, or the connection's line buffer failed. The line is lost, the
   * connection's line buffer is re-created and the following lines are delivered, unless this
   * failure exceeds the restart intensity (then {@link #restartLimitReached} follows).
   *
   * <p>The default logs the failure with its stack trace at WARNING, at most once a second,
   * counting the ones it left out: a flood of bad lines does not flood the log.
   *
   * @param line the line the sink rejected, or {@code null} if the line buffer itself failed
   */
  default void sinkFailed(ConnectionInfo connection, @Nullable String line, Exception error) {
    Reports.of(connection)
        .sinkFailures
        .log(
            Level.WARNING,
            () ->
                "sink failed on "
                    + Log.describe(connection)
                    + (line == null ? "" : " for line: " + line),
            error);
  }

  /**
   * The sink threw an {@link Error} (not an {@link Exception}) for a line, say an {@link
   * AssertionError} or a {@link StackOverflowError}. The line is lost and the connection is closed
   * with {@link CloseReason#SERVER_ERROR} (its lines already queued for a sink executor are
   * dropped, counted in {@link LineServerStats#linesDropped()}); the thread, the server and every
   * other connection go on. An error that says the JVM itself is failing ({@link OutOfMemoryError},
   * {@link InternalError}, {@link UnknownError}) is reported here too, and then rethrown: it ends
   * the I/O thread (closing its connections with {@code SERVER_ERROR}) or reaches the executor.
   *
   * <p>The default logs the error with its stack trace at ERROR, at most once a second, counting
   * the ones it left out.
   *
   * @param line the line the sink was given, or {@code null} if it could not be decoded
   */
  default void sinkError(ConnectionInfo connection, @Nullable String line, Error error) {
    Reports.of(connection)
        .sinkErrors
        .log(
            Level.ERROR,
            () ->
                "sink threw "
                    + error
                    + " on "
                    + Log.describe(connection)
                    + "; closing it"
                    + (line == null ? "" : ", line: " + line),
            error);
  }

  /**
   * A connection failed more than {@code maxRestarts} times within {@code period}; it is closed
   * with {@link CloseReason#RESTART_LIMIT}. The server and every other connection go on. The
   * default logs at WARNING, at most once a second, counting the ones it left out.
   */
  default void restartLimitReached(ConnectionInfo connection, int maxRestarts, Duration period) {
    Reports.of(connection)
        .restartLimits
        .log(
            Level.WARNING,
            () ->
                "closing "
                    + Log.describe(connection)
                    + ": more than "
                    + maxRestarts
                    + " sink failures within "
                    + period);
  }

  /**
   * A send to the connection found its send queue full: its peer has not read {@code
   * maxSendQueueBytes} of bytes sent to it. That send returned {@link SendResult#FULL}; with {@link
   * SendQueueFull#CLOSE} the connection is closing as a {@link CloseReason#SLOW_READER}. Called on
   * the connection's I/O thread, once each time the queue fills: sends refused until the peer has
   * read are counted in {@link LineServerStats#sendsRefused()}, not reported one by one. The
   * default logs at WARNING, at most once a second, counting the ones it left out.
   *
   * @param queuedBytes the bytes sent and not yet written when the send was refused
   */
  default void sendQueueFull(ConnectionInfo connection, int queuedBytes) {
    Reports.of(connection)
        .sendQueueFull
        .log(
            Level.WARNING,
            () ->
                "send queue full ("
                    + queuedBytes
                    + " bytes not read by the peer) on "
                    + Log.describe(connection));
  }

  /**
   * A connection was refused by a connection limit or the allow/deny ranges: it was accepted and
   * reset at once, before any buffer was allocated for it, so the client's next read or write
   * fails. With the PROXY protocol, the ranges are checked again against the client its header
   * names, {@code maxConnectionsPerAddress} counts that client, and a connection refused then is
   * closed before its first line, with {@code remoteAddress} the client's. The default logs at most
   * one WARNING a second, counting the ones it left out.
   */
  default void connectionRefused(SocketAddress remoteAddress, RefusalReason reason) {
    Reports.current()
        .refusals
        .log(Level.WARNING, () -> "refused a connection from " + remoteAddress + ": " + reason);
  }

  /**
   * A connection was closed before it was opened because what comes before its lines failed ({@link
   * CloseReason#HANDSHAKE_FAILED}); no line of it was delivered, and it gets no {@code
   * connectionOpened} or {@code connectionClosed}. {@code error} says what failed:
   *
   * <ul>
   *   <li>a {@link javax.net.ssl.SSLException}: the TLS handshake failed, say the stream did not
   *       begin with a ClientHello or the engine rejected the client's, or the connection ended
   *       during the handshake;
   *   <li>a {@link java.util.concurrent.TimeoutException}: the PROXY protocol header or the TLS
   *       handshake was not complete within {@code handshakeTimeout};
   *   <li>another {@link IOException}: the PROXY protocol header was malformed, missing (with
   *       {@link ProxyProtocol#REQUIRED}) or cut off by the end of the stream.
   * </ul>
   *
   * <p>A TLS failure after the handshake closes the opened connection with {@link
   * CloseReason#PEER_RESET} instead. The default logs one line, without a stack trace, at most once
   * a second at WARNING, counting the ones it left out.
   */
  default void handshakeFailed(ConnectionInfo connection, Exception error) {
    Reports.of(connection)
        .handshakes
        .log(Level.WARNING, () -> "closed " + Log.describe(connection) + ": " + error.getMessage());
  }

  /**
   * Accepting failed, for instance with too many open files. The acceptor keeps serving open
   * connections and retries, waiting 100 ms doubling to 1 s; this is called for the first failure
   * of a run, and its end is logged at INFO.
   */
  default void acceptFailed(IOException error) {
    Reports.current()
        .log
        .log(Level.WARNING, () -> "accept failed, retrying with back-off: " + error);
  }
}
