package dev.lineserver;

import java.util.Map;

/**
 * A snapshot of a server's counters since it started, from {@link LineServer#stats()}. Each counter
 * is read once without stopping the server, so counters taken together may be a few events apart.
 *
 * @param connectionsAccepted connections accepted from the kernel, refused ones included
 * @param connectionsOpen connections accepted and not yet closed or refused
 * @param connectionsRefused connections closed at once by a connection limit or the ranges, at
 *     accept; those refused after their PROXY header are in {@code connectionsClosed} ({@code
 *     NOT_ALLOWED}, {@code MAX_CONNECTIONS_PER_ADDRESS})
 * @param bytesReceived bytes read from connections
 * @param lines complete lines within {@code maxLineLength} handed to the sink (or that failed to
 *     decode); with a sink executor, counted as the sink is called, not as they are queued
 * @param linesTooLong lines discarded for being longer than {@code maxLineLength}
 * @param sinkFailures lines the sink threw for or that failed to decode, and line buffer failures
 * @param restartLimitsReached connections closed for failing too often
 * @param readsPaused times a connection stopped reading because the sink executor's byte budget was
 *     spent
 * @param sinkPendingBytes heap held by lines read and not yet through a sink running on an
 *     executor: their bytes plus 4 bytes a line and 64 bytes a chunk (one read's lines)
 * @param linesDropped complete lines read and never handed to the sink: queued for an executor when
 *     their connection failed (restart limit, a sink's {@link Error}, an executor shut down), or
 *     still queued when {@code close()} gave up on a sink that did not return
 * @param partialLinesDropped partial lines dropped because their connection closed before their
 *     peer ended them: timeouts, resets, and {@code close()}'s shutdown timeout
 * @param bytesSent bytes written to connections: what was sent, with TLS its records and the
 *     handshakes
 * @param sendsRefused sends that returned {@link SendResult#FULL}: the connection's send queue was
 *     full
 * @param sendBytesDropped bytes queued by a send and never written, because their connection failed
 *     first: reset, {@link CloseReason#SLOW_READER}, {@link ConnectionInfo#closeNow()} or the
 *     shutdown timeout
 * @param connectionsClosed closed connections by reason; every reason is present
 */
public record LineServerStats(
    long connectionsAccepted,
    long connectionsOpen,
    long connectionsRefused,
    long bytesReceived,
    long lines,
    long linesTooLong,
    long sinkFailures,
    long restartLimitsReached,
    long readsPaused,
    long sinkPendingBytes,
    long linesDropped,
    long partialLinesDropped,
    long bytesSent,
    long sendsRefused,
    long sendBytesDropped,
    Map<CloseReason, Long> connectionsClosed) {

  public LineServerStats {
    connectionsClosed = Map.copyOf(connectionsClosed);
  }
}
