package dev.lineserver;

/** Why an accepted connection was refused at once; passed to {@link LineServerListener}. */
public enum RefusalReason {
  /** {@code maxConnections} connections were already open. */
  MAX_CONNECTIONS,
  /** {@code maxConnectionsPerAddress} connections from the same IP address were already open. */
  MAX_CONNECTIONS_PER_ADDRESS,
  /** The remote address is in a {@code deny} range, or in no {@code allow} range. */
  NOT_ALLOWED
}
