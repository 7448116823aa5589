package dev.lineserver;

/**
 * Whether connections begin with a PROXY protocol header (v1 text or v2 binary) naming the original
 * client, as a TCP load balancer such as haproxy sends with {@code send-proxy} or {@code
 * send-proxy-v2}.
 */
public enum ProxyProtocol {
  /** No header is expected: the first bytes are line data. The default. */
  OFF,
  /**
   * Every connection must begin with a valid header within {@code handshakeTimeout}, or it is
   * closed without a line delivered. The safe choice behind a proxy.
   */
  REQUIRED,
  /**
   * A connection that begins with a header's signature must carry a valid header; any other is
   * served as plain lines. Safe only where every client that can reach the port is trusted, since
   * any of them may claim any address in a header.
   */
  OPTIONAL
}
