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
 * @param lines complete lines within {@code maxLineLength}, each handed to the sink (or failed to
 *     decode)
 * @param linesTooLong lines discarded for being longer than {@code maxLineLength}
 * @param sinkFailures lines the sink threw for or that failed to decode, and line buffer failures
 * @param restartLimitsReached connections closed for failing too often
 * @param readsPaused times a connection stopped reading because the sink executor's byte budget was
 *     spent
 * @param sinkPendingBytes bytes of lines read and not yet through a sink running on an executor
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
    Map<CloseReason, Long> connectionsClosed) {

  public LineServerStats {
    connectionsClosed = Map.copyOf(connectionsClosed);
  }
}
