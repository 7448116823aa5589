package dev.lineserver.internal;

import java.io.IOException;

/**
 * A connection's stream did not begin with a valid PROXY protocol header; see {@link ProxyHeader}.
 */
final class ProxyHeaderException extends IOException {
  private static final long serialVersionUID = 1L;

  ProxyHeaderException(String message) {
    super(message);
  }
}
