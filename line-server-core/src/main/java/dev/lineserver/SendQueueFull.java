package dev.lineserver;

/**
 * What a server does with a connection whose send queue is full: its peer has not read {@code
 * maxSendQueueBytes} of bytes sent to it. Either way the send that found it full returns {@link
 * SendResult#FULL} and queues nothing.
 */
public enum SendQueueFull {
  /**
   * Closes the connection at once as a {@link CloseReason#SLOW_READER}, dropping what it had not
   * written: a peer that does not read its replies is broken, and holds nothing more of the
   * server's. Later sends return {@link SendResult#CLOSED}. The default.
   */
  CLOSE,
  /**
   * Keeps the connection: this send is refused and later ones are queued again once the peer has
   * read enough. The application decides (say, to drop an acknowledgement the peer will ask for
   * again, or to close the connection itself).
   */
  REFUSE
}
