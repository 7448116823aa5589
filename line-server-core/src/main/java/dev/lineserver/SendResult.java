package dev.lineserver;

/**
 * What became of one {@link ConnectionInfo#send}: the caller learns at once, and nothing is lost
 * without it being told.
 */
public enum SendResult {
  /**
   * Queued: the connection's I/O thread writes the bytes after everything sent before them, also
   * when the connection closes in an orderly way ({@link ConnectionInfo#close}, the peer's EOF,
   * {@link LineServer#close}). Only a connection that fails first (reset, {@link
   * CloseReason#SLOW_READER}, {@link ConnectionInfo#closeNow}, the shutdown timeout) drops them,
   * counted in {@link LineServerStats#sendBytesDropped()}.
   */
  QUEUED,
  /**
   * Refused, nothing queued: the bytes would pass the connection's {@code maxSendQueueBytes} of
   * bytes sent and not yet written, because its peer reads too slowly or not at all. Counted in
   * {@link LineServerStats#sendsRefused()} and reported to {@link
   * LineServerListener#sendQueueFull}. With {@link SendQueueFull#CLOSE} the connection is closed as
   * a {@link CloseReason#SLOW_READER} too; with {@link SendQueueFull#REFUSE} a later send may be
   * queued once the peer has read.
   */
  FULL,
  /**
   * Refused, nothing queued: the connection is closed, or closing and past its last line's sink
   * call, or it was never opened (its PROXY header or TLS handshake failed).
   */
  CLOSED
}
