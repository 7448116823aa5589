package dev.lineserver;

/** Whether TLS clients must present a certificate; see {@link LineServer.Builder#clientAuth}. */
public enum ClientAuth {
  /** No client certificate is asked for. The default. */
  NONE,
  /**
   * A certificate is asked for; a client that sends none is served, one that sends an untrusted one
   * is not.
   */
  OPTIONAL,
  /** A certificate the server's trust managers accept is required, or the handshake fails. */
  REQUIRED
}
