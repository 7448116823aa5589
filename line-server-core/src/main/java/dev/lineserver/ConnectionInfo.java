package dev.lineserver;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;

/**
 * One accepted connection: what the server knows about it, and the way to send to its peer and to
 * close it. Safe to keep, from any thread, also after the connection closed: it then holds none of
 * the connection's buffers, and a send returns {@link SendResult#CLOSED}. A dispatcher keeps it
 * from {@link LineServerListener#connectionOpened} or a sink, or looks it up later with {@link
 * LineServer#connection(long)}. (The defaults of the methods that send and close are for a {@code
 * ConnectionInfo} a server did not make, such as a test's: it is closed.)
 *
 * <p><b>Sending</b> is thread-safe and never blocks: the bytes are copied into the connection's
 * send queue and its I/O thread writes them, in the order the sends were made, through TLS when the
 * server has it; what the socket does not take waits for it to be writable. A sink's replies to the
 * lines of one read go out together, not a write per reply. The queue holds at most {@code
 * maxSendQueueBytes} of bytes sent and not yet written; a connection that never sent holds no
 * queue. Replies to lines still reach the peer when it half-closes its side ({@code nc -N}), when
 * the application closes the connection with {@link #close()}, and when the server closes, within
 * {@code shutdownTimeout}; over TLS the close_notify comes after the last of them.
 *
 * <pre>{@code
 * .connectionSink((connection, line) -> {
 *   Position position = parse(line);
 *   connection.sendLine("ACK " + position.sequence());   // "ACK 17\n"
 * })
 * }</pre>
 */
public interface ConnectionInfo {

  /** A number unique within this JVM, increasing in the order connections were accepted. */
  long id();

  /**
   * The client's address: an {@link java.net.InetSocketAddress}, or a {@link
   * java.net.UnixDomainSocketAddress} (no IP address) on a Unix-domain socket. With the PROXY
   * protocol, the original client's address from the header, not the proxy's.
   */
  SocketAddress remoteAddress();

  /** The address the connection was accepted on. */
  SocketAddress localAddress();

  /**
   * The address of the proxy that forwarded the connection with a PROXY protocol header naming the
   * client; {@code null} for a direct connection (or a header that named no client).
   */
  default @Nullable SocketAddress proxyAddress() {
    return null;
  }

  /**
   * The TLS session of a connection to a server with {@code tls(...)}: its protocol, cipher suite
   * and peer; {@code null} without TLS.
   */
  default @Nullable SSLSession tlsSession() {
    return null;
  }

  /**
   * The client's certificate chain, verified by the server's trust managers, client first; empty
   * without TLS or when the client sent none ({@link ClientAuth#OPTIONAL}). {@code
   * peerCertificates().get(0).getSubjectX500Principal()} names a gateway.
   */
  default List<X509Certificate> peerCertificates() {
    return List.of();
  }

  /**
   * Queues a copy of {@code bytes} for the peer; see the class comment.
   *
   * @return {@link SendResult#QUEUED}, or why nothing was queued
   * @throws IllegalArgumentException if {@code bytes} is longer than {@code maxSendQueueBytes}: it
   *     could never be queued
   */
  default SendResult send(byte[] bytes) {
    return SendResult.CLOSED;
  }

  /**
   * Queues a copy of {@code length} bytes of {@code bytes} from {@code offset}; as {@link
   * #send(byte[])}.
   *
   * @throws IndexOutOfBoundsException if the range is not within {@code bytes}
   */
  default SendResult send(byte[] bytes, int offset, int length) {
    return SendResult.CLOSED;
  }

  /**
   * Queues a copy of the remaining bytes of {@code bytes}, leaving its position as it was: a {@link
   * Line}'s {@link Line#asByteBuffer()} can be echoed as it is. As {@link #send(byte[])}.
   */
  default SendResult send(ByteBuffer bytes) {
    return SendResult.CLOSED;
  }

  /**
   * Queues {@code text} encoded with the server's charset, as it is: no delimiter is added (see
   * {@link #sendLine}). As {@link #send(byte[])}.
   *
   * @throws IllegalArgumentException if {@code text} cannot be encoded in the charset (an unpaired
   *     surrogate, a character the charset lacks), naming the index, or its bytes are longer than
   *     {@code maxSendQueueBytes}
   */
  default SendResult send(CharSequence text) {
    return SendResult.CLOSED;
  }

  /**
   * Queues {@code text} encoded with the server's charset and then the server's delimiter byte (LF
   * by default; a peer that wants CRLF is sent {@code send(text + "\r\n")}), in one send: the two
   * are queued or refused together. As {@link #send(CharSequence)}.
   */
  default SendResult sendLine(CharSequence text) {
    return SendResult.CLOSED;
  }

  /**
   * Closes the connection in an orderly way, from any thread, and returns at once: no line is read
   * after this, a partial line is dropped, and the lines already read still reach the sink (with a
   * sink executor), whose replies are still taken. Then everything queued is written, over TLS
   * followed by close_notify, and the socket is closed; within {@code shutdownTimeout}, after which
   * what the peer did not read is dropped and the connection counts as a {@link
   * CloseReason#SLOW_READER}. Reported to {@link LineServerListener#connectionClosed} with {@link
   * CloseReason#APPLICATION_CLOSE}. Does nothing on a connection closed or closing already.
   */
  default void close() {}

  /**
   * Closes the connection now, from any thread, and returns at once: what is queued for the peer
   * and not yet written is dropped (counted in {@link LineServerStats#sendBytesDropped()}), and the
   * lines already read still reach the sink as after {@link #close()}. Reported with {@link
   * CloseReason#APPLICATION_CLOSE}. Also ends a {@link #close()} that waits for a peer to read.
   */
  default void closeNow() {}
}
