package dev.lineserver.internal;

import dev.lineserver.ByteLineSink;
import dev.lineserver.ClientAuth;
import dev.lineserver.ConnectionLineSink;
import dev.lineserver.LineServerListener;
import dev.lineserver.ProxyProtocol;
import dev.lineserver.SendQueueFull;
import java.net.InetAddress;
import java.nio.charset.Charset;
import java.nio.file.Path;
import java.util.concurrent.Executor;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

/**
 * What one server was configured with: validated by the builder, immutable, shared by all its
 * threads. Each component has a type of its own, so none can take another's place; the live objects
 * the {@link Engine} makes from them are in {@link Services}. A timeout of 0 is off. A server
 * without a {@code name} has the threads and log lines of one before names existed.
 */
public record Settings(
    @Nullable String name,
    Listen listen,
    int ioThreads,
    Framing framing,
    SinkMode sink,
    LineServerListener listener,
    Supervision supervision,
    Timeouts timeouts,
    Limits limits,
    ProxyProtocol proxyProtocol,
    KeepAlive keepAlive,
    @Nullable TlsSettings tls,
    Sending sending) {

  /** An unnamed server's settings. */
  public Settings(
      Listen listen,
      int ioThreads,
      Framing framing,
      SinkMode sink,
      LineServerListener listener,
      Supervision supervision,
      Timeouts timeouts,
      Limits limits,
      ProxyProtocol proxyProtocol,
      KeepAlive keepAlive,
      @Nullable TlsSettings tls,
      Sending sending) {
    this(
        null,
        listen,
        ioThreads,
        framing,
        sink,
        listener,
        supervision,
        timeouts,
        limits,
        proxyProtocol,
        keepAlive,
        tls,
        sending);
  }

  /** Where to listen: a Unix-domain socket at {@code unixSocket}, else TCP on the address. */
  public record Listen(
      int port, @Nullable InetAddress bindAddress, @Nullable Path unixSocket, int backlog) {}

  /** How bytes become lines: they end at {@code delimiter}, and are decoded with the charset. */
  public record Framing(int maxLineLength, byte delimiter, Charset charset) {}

  /**
   * Where lines go: exactly one of {@code stringSink} and {@code byteSink} is set. With an {@code
   * executor}, lines reach the sink through it, at most {@code maxPendingBytes} of them pending;
   * lines waiting with none through for {@code stallNanos} make the server unhealthy.
   */
  public record SinkMode(
      @Nullable ConnectionLineSink stringSink,
      @Nullable ByteLineSink byteSink,
      @Nullable Executor executor,
      long maxPendingBytes,
      long stallNanos) {
    /** The default stall bound: 10 s. */
    public static final long DEFAULT_STALL_NANOS = 10_000_000_000L;

    /** With the default stall bound. */
    public SinkMode(
        @Nullable ConnectionLineSink stringSink,
        @Nullable ByteLineSink byteSink,
        @Nullable Executor executor,
        long maxPendingBytes) {
      this(stringSink, byteSink, executor, maxPendingBytes, DEFAULT_STALL_NANOS);
    }
  }

  /** How many sink failures a connection survives within the period. */
  public record Supervision(int maxRestarts, long restartPeriodNanos) {}

  /** A connection's clocks, and how long {@code close()} drains. */
  public record Timeouts(long idleNanos, long lineNanos, long handshakeNanos, long shutdownNanos) {}

  /** Who may connect, and how many at once: in all, and from one address. */
  public record Limits(int maxConnections, int maxConnectionsPerAddress, AddressRanges ranges) {}

  /** What a connection may hold of bytes sent to its peer, and what happens past that. */
  public record Sending(int maxQueueBytes, SendQueueFull whenFull) {}

  /** TLS with this context; {@code threads} for the handshakes' tasks, 0 for the default. */
  public record TlsSettings(SSLContext context, ClientAuth clientAuth, int threads) {}
}
