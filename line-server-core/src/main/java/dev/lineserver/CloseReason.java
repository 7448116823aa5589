package dev.lineserver;

/**
 * Why a connection was closed, counted by reason in {@link LineServerStats#connectionsClosed()}.
 *
 * <p>A connection that was opened ({@link LineServerListener#connectionOpened}) gets its reason in
 * {@link LineServerListener#connectionClosed}. Three reasons end a connection before it is opened
 * and never reach {@code connectionClosed}: {@link #HANDSHAKE_FAILED} is reported to {@link
 * LineServerListener#handshakeFailed}, {@link #NOT_ALLOWED} and {@link
 * #MAX_CONNECTIONS_PER_ADDRESS} to {@link LineServerListener#connectionRefused}. A connection that
 * closes before it is opened for any other reason (say, its peer left before sending a byte of its
 * PROXY header or TLS handshake) is counted and reported to no listener method.
 */
public enum CloseReason {
  /**
   * The peer closed its side; an unterminated last line was delivered first, and what was sent to
   * the peer before (or, with a sink executor, in reply to its last lines) was written.
   */
  PEER_EOF,
  /**
   * The peer reset the connection, reading from or writing to it failed, or TLS failed on it after
   * its handshake; buffered bytes are lost.
   */
  PEER_RESET,
  /** No byte arrived for {@code idleTimeout}; a partial line is dropped. */
  IDLE_TIMEOUT,
  /** A started line did not end within {@code lineTimeout}; the partial line is dropped. */
  LINE_TIMEOUT,
  /** The connection's sink failed more often than the restart intensity allows. */
  RESTART_LIMIT,
  /**
   * The server is closing and the connection was quiet, its socket empty, with no partial line:
   * everything it sent was delivered.
   */
  SERVER_CLOSE,
  /**
   * The server is closing and the shutdown timeout ended while the connection was still sending,
   * held back by the sink, or holding a partial line: what was read is delivered, the partial line
   * is dropped (never delivered as a line), and what the kernel still held for it is lost.
   */
  SHUTDOWN_TIMEOUT,
  /**
   * The connection failed before it was opened, in what comes before its lines: its PROXY protocol
   * header was malformed, missing, late or cut off by the end of the stream, or its TLS handshake
   * failed (a stream that is not a TLS ClientHello, a handshake the engine rejects), was late, or
   * was cut off by the end of the stream. Reported to {@link LineServerListener#handshakeFailed}
   * with the error, not to {@code connectionOpened} or {@code connectionClosed}.
   */
  HANDSHAKE_FAILED,
  /**
   * The client named by the connection's PROXY protocol header is outside the {@code allow} ranges
   * or inside the {@code deny} ranges. Reported to {@link LineServerListener#connectionRefused},
   * not to {@code connectionOpened} or {@code connectionClosed}.
   */
  NOT_ALLOWED,
  /**
   * With the PROXY protocol: the address the connection has once its header is read (the client the
   * header names, else the socket's peer) already had {@code maxConnectionsPerAddress} connections
   * open. Reported to {@link LineServerListener#connectionRefused}, not to {@code connectionOpened}
   * or {@code connectionClosed}.
   */
  MAX_CONNECTIONS_PER_ADDRESS,
  /**
   * The application closed the connection: {@link ConnectionInfo#close()} (once what was queued for
   * the peer was written) or {@link ConnectionInfo#closeNow()}.
   */
  APPLICATION_CLOSE,
  /**
   * The peer did not read what was sent to it: its send queue was full with {@link
   * SendQueueFull#CLOSE}, or it was closing and had not read its queued bytes within {@code
   * shutdownTimeout}. What it had not read is dropped ({@link LineServerStats#sendBytesDropped()}).
   */
  SLOW_READER,
  /**
   * The connection's sink threw an {@link Error} ({@link LineServerListener#sinkError}), its sink
   * executor was shut down, or the I/O thread serving it died of an error of a failing JVM; see the
   * log.
   */
  SERVER_ERROR
}
