package dev.lineserver;

import dev.lineserver.internal.AddressRanges;
import dev.lineserver.internal.Engine;
import dev.lineserver.internal.KeepAlive;
import dev.lineserver.internal.Settings;
import dev.lineserver.internal.Tls;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

/**
 * A running TCP server that splits every connection's bytes into lines and hands each complete line
 * to a sink.
 *
 * <pre>{@code
 * try (LineServer server = LineServer.builder()
 *     .port(9000)
 *     .maxLineLength(64 * 1024)
 *     .sink(line -> positions.accept(line))
 *     .start()) {
 *   ...
 * }
 * }</pre>
 *
 * <p>A line ends at LF; a CR right before the LF is stripped, a lone CR is data. An unterminated
 * last line is delivered when the peer closes. A line longer than {@code maxLineLength} bytes is
 * discarded and reported to the {@link LineServerListener}; the connection goes on. Malformed input
 * in the charset is decoded with replacement characters. See {@link LineSink} for threading and
 * failures.
 *
 * <p>The server's threads ({@code line-server-accept}, {@code line-server-io-N}, with TLS {@code
 * line-server-tls-N}; with a {@link Builder#name} such as {@code ingest}, {@code
 * line-server-ingest-accept}, {@code line-server-ingest-io-N}...) are not daemon threads: a {@code
 * main} that starts a server and returns keeps serving until {@link #close()}.
 */
public final class LineServer implements AutoCloseable {
  private final Engine engine;

  private LineServer(Engine engine) {
    this.engine = engine;
  }

  /** Starts configuring a server. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The port the server is bound to; the actual one when port 0 was asked for. -1 for a server on a
   * Unix-domain socket.
   */
  public int port() {
    return engine.port();
  }

  /**
   * The address the server is bound to: an {@link InetSocketAddress}, or a {@link
   * UnixDomainSocketAddress}.
   */
  public SocketAddress localAddress() {
    return engine.localAddress();
  }

  /**
   * The server's counters since it started: cheap (a few dozen reads), safe from any thread, also
   * after {@link #close()}.
   */
  public LineServerStats stats() {
    return engine.stats();
  }

  /**
   * Whether the server is fit to serve, for a readiness probe: it accepts connections, every I/O
   * thread is alive, and, with a {@link Builder#sinkExecutor}, lines waiting for the sink have not
   * waited past {@link Builder#sinkStallThreshold} with none going through. Cheap (a few reads of
   * thread and counter state, no lock, no I/O: microseconds), safe from any thread, also after
   * {@link #close()}, when the server is no longer accepting.
   */
  public LineServerHealth health() {
    return engine.health();
  }

  /** The name given to {@link Builder#name}, or {@code null}. */
  public @Nullable String name() {
    return engine.name();
  }

  /**
   * The open connection with this {@link ConnectionInfo#id()}, or {@code null} if none is (not
   * opened yet, closed, or never of this server): how a dispatcher finds a vehicle it sends a
   * command to. Safe from any thread; a hash lookup.
   */
  public @Nullable ConnectionInfo connection(long id) {
    return engine.connection(id);
  }

  /**
   * The connections open now (opened and not yet closed or closing), a snapshot in no particular
   * order; from any thread.
   */
  public List<ConnectionInfo> connections() {
    return engine.connections();
  }

  /**
   * Stops the server gracefully. At once: stops accepting and releases the port, after taking the
   * connections already waiting in the kernel's backlog. Then drains: every complete line read from
   * a connection, and every one still arriving, is delivered exactly once, and each connection is
   * closed at peer EOF (its unterminated tail delivered as a last line), once it has been quiet for
   * 200 ms with its socket empty and no partial line ({@link CloseReason#SERVER_CLOSE}), or when
   * the shutdown timeout expires ({@link CloseReason#SHUTDOWN_TIMEOUT}: a partial line is dropped,
   * never delivered, and counted in {@link LineServerStats#partialLinesDropped()}). Returns when
   * every thread of the server has ended, every socket is closed and every queued line is through
   * the sink, whatever the caller's interrupt status (which it keeps).
   *
   * <p>So {@code close()} returns within the shutdown timeout and two seconds, even when a sink or
   * listener call does not return: one second past the shutdown timeout the thread running it is
   * interrupted (if it is an I/O thread; a sink executor's threads are yours), and one second later
   * {@code close()} gives up on it, logging a WARNING with its stack: an I/O thread's sockets are
   * closed (its peers see the connection end), it delivers no further line and reports nothing
   * more, and it ends, releasing its selector, once the call returns; lines still queued for a sink
   * executor are dropped and counted in {@link LineServerStats#linesDropped()}. The call under way
   * is the only user code that may still run after {@code close()} returns.
   *
   * <p>Idempotent and safe from any thread. Called from a sink or listener (on a thread of this
   * server or of its sink executor), it starts the same shutdown on a thread named {@code
   * line-server-close} and returns at once; the drain goes on, so lines are still delivered after
   * it returned. A second call from another thread waits for the first to finish.
   */
  @Override
  public void close() {
    engine.close();
  }

  @Override
  public String toString() {
    return engine.toString();
  }

  /**
   * Configures and starts a {@link LineServer}. Each setter checks its argument at once and throws
   * {@link IllegalArgumentException} naming the bad value and the accepted range; {@link #start()}
   * checks what involves several settings.
   */
  public static final class Builder {
    /** The largest {@code maxLineLength}: the largest array a JVM reliably allocates, less one. */
    public static final int MAX_LINE_LENGTH_LIMIT = Integer.MAX_VALUE - 8;

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private @Nullable String name;
    private int port;
    private @Nullable InetAddress bindAddress;
    private @Nullable Path unixSocket;
    private int backlog = 1024;
    private int maxLineLength = 64 * 1024;
    private int delimiter = '\n';
    private Charset charset = StandardCharsets.UTF_8;
    private int ioThreads = Runtime.getRuntime().availableProcessors();
    private int maxRestarts = 3;
    private Duration restartPeriod = Duration.ofSeconds(5);
    private Duration shutdownTimeout = Duration.ofSeconds(10);
    private Duration sinkStallThreshold = Duration.ofNanos(Settings.SinkMode.DEFAULT_STALL_NANOS);
    private Duration idleTimeout = Duration.ZERO;
    private Duration lineTimeout = Duration.ofSeconds(60);
    private int maxConnections = 65_536;
    private int maxConnectionsPerAddress = Integer.MAX_VALUE;
    private boolean keepAlive = true;
    private Duration keepAliveIdle = Duration.ofMinutes(2);
    private Duration keepAliveInterval = Duration.ofSeconds(15);
    private int keepAliveCount = 4;
    private List<AddressRanges.Range> allow = List.of();
    private List<AddressRanges.Range> deny = List.of();
    private ProxyProtocol proxyProtocol = ProxyProtocol.OFF;
    private Duration handshakeTimeout = Duration.ofSeconds(10);
    private @Nullable SSLContext sslContext;
    private ClientAuth clientAuth = ClientAuth.NONE;
    private int tlsThreads;
    private @Nullable Executor sinkExecutor;
    private long maxPendingBytes = 64L * 1024 * 1024;
    private @Nullable ConnectionLineSink stringSink;
    private @Nullable ByteLineSink byteSink;
    private LineServerListener listener = new LineServerListener() {};
    private int maxSendQueueBytes = 64 * 1024;
    private SendQueueFull sendQueueFull = SendQueueFull.CLOSE;

    private Builder() {}

    /**
     * Names the server, so that two in one JVM can be told apart: its threads are named {@code
     * line-server-NAME-accept}, {@code line-server-NAME-io-N}, {@code line-server-NAME-tls-N} and
     * {@code line-server-NAME-close}, and the library's log messages about it begin with {@code
     * [NAME]}. 1 to 64 characters of {@code A-Z a-z 0-9 . _ -}. Without a name (the default) the
     * threads are {@code line-server-accept}, {@code line-server-io-N}... and messages have no
     * prefix.
     */
    public Builder name(String name) {
      Objects.requireNonNull(name, "name");
      if (!NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "name: \"" + name + "\" (expected: 1..64 characters of A-Z a-z 0-9 . _ -)");
      }
      this.name = name;
      return this;
    }

    /** The TCP port to listen on; 0 (the default) picks a free one, see {@link #port()}. */
    public Builder port(int port) {
      this.port = checkRange("port", port, 0, 65535);
      return this;
    }

    /** The local address to listen on; by default every interface. */
    public Builder bindAddress(InetAddress bindAddress) {
      this.bindAddress = Objects.requireNonNull(bindAddress, "bindAddress");
      return this;
    }

    /** How many accepted connections the kernel queues before the acceptor takes them; 1024. */
    public Builder backlog(int backlog) {
      this.backlog = checkRange("backlog", backlog, 1, 65535);
      return this;
    }

    /**
     * The longest line delivered, in bytes, without its delimiter (and a CR right before an LF);
     * 65536 by default. A longer line is discarded without being buffered and reported to {@link
     * LineServerListener#lineTooLong}. Bounds the memory of each connection.
     */
    public Builder maxLineLength(int maxLineLength) {
      this.maxLineLength = checkRange("maxLineLength", maxLineLength, 1, MAX_LINE_LENGTH_LIMIT);
      return this;
    }

    /**
     * The byte that ends a line: LF ({@code '\n'}) by default, when a CR right before it is
     * stripped too. Any other byte ends lines alone, e.g. {@code 0} (NUL) for GELF over TCP; a CR
     * is then data. The delimiter is a byte, not a character: with a charset whose characters may
     * contain it (UTF-16), lines split wrongly.
     */
    public Builder delimiter(int delimiter) {
      this.delimiter = checkRange("delimiter", delimiter, 0, 255);
      return this;
    }

    /** How line bytes become strings; UTF-8 by default. Malformed input becomes U+FFFD. */
    public Builder charset(Charset charset) {
      this.charset = Objects.requireNonNull(charset, "charset");
      return this;
    }

    /**
     * Listens on a Unix-domain socket at {@code path} instead of TCP ({@link #port} and {@link
     * #bindAddress} are then not used). The socket file is created by {@link #start()}, replacing a
     * stale one that no process listens on, and removed by {@link LineServer#close()}. Its
     * connections have no IP address: {@link ConnectionInfo#remoteAddress()} is a {@link
     * UnixDomainSocketAddress}, the {@link #allow}/{@link #deny} ranges and {@link
     * #maxConnectionsPerAddress} do not apply to them (file permissions decide who may connect).
     */
    public Builder unixSocket(Path path) {
      this.unixSocket = Objects.requireNonNull(path, "unixSocket");
      return this;
    }

    /** How many I/O threads serve connections; by default one per available processor. */
    public Builder ioThreads(int ioThreads) {
      this.ioThreads = checkRange("ioThreads", ioThreads, 1, 1024);
      return this;
    }

    /**
     * How many sink failures one connection survives within {@code period}: each failure loses its
     * line and re-creates the connection's line buffer; the failure that makes more than {@code
     * maxRestarts} within {@code period} closes that connection. 3 within 5 seconds by default; 0
     * closes a connection at its first failure.
     */
    public Builder restartIntensity(int maxRestarts, Duration period) {
      Objects.requireNonNull(period, "period");
      checkRange("maxRestarts", maxRestarts, 0, 1000);
      checkDuration("period", period, Duration.ofMillis(1), Duration.ofDays(1));
      this.maxRestarts = maxRestarts;
      this.restartPeriod = period;
      return this;
    }

    /**
     * How long {@link LineServer#close()} drains connections that keep sending, are held back by
     * the sink or hold a partial line; 10 s by default. {@code close()} returns within this plus
     * two seconds.
     */
    public Builder shutdownTimeout(Duration shutdownTimeout) {
      Objects.requireNonNull(shutdownTimeout, "shutdownTimeout");
      this.shutdownTimeout =
          checkDuration("shutdownTimeout", shutdownTimeout, Duration.ZERO, Duration.ofHours(1));
      return this;
    }

    /**
     * Closes a connection that sent no byte for this long ({@link CloseReason#IDLE_TIMEOUT}),
     * dropping a partial line; {@code Duration.ZERO} (the default) never does. A fleet whose
     * senders report at least every {@code T} should set about {@code 2 * T} plus a margin for
     * delays ({@code T} = 30 s: 75 s): a live sender that lost one report stays, a vanished one is
     * closed that long after its last line, sooner than {@link #tcpKeepAlive} notices it.
     */
    public Builder idleTimeout(Duration idleTimeout) {
      Objects.requireNonNull(idleTimeout, "idleTimeout");
      this.idleTimeout =
          checkDuration("idleTimeout", idleTimeout, Duration.ZERO, Duration.ofDays(1));
      return this;
    }

    /**
     * Closes a connection whose line started this long ago and has not ended ({@link
     * CloseReason#LINE_TIMEOUT}), dropping the partial line: a sender trickling a byte at a time
     * cannot hold a connection forever. 60 s by default; {@code Duration.ZERO} turns it off.
     */
    public Builder lineTimeout(Duration lineTimeout) {
      Objects.requireNonNull(lineTimeout, "lineTimeout");
      this.lineTimeout =
          checkDuration("lineTimeout", lineTimeout, Duration.ZERO, Duration.ofDays(1));
      return this;
    }

    /**
     * The most connections open at once; 65536 by default. Past it, a new connection is accepted
     * and reset at once, before any buffer is allocated, and reported to {@link
     * LineServerListener#connectionRefused}; open connections are untouched.
     */
    public Builder maxConnections(int maxConnections) {
      this.maxConnections = checkRange("maxConnections", maxConnections, 1, Integer.MAX_VALUE);
      return this;
    }

    /**
     * The most connections open at once from one IP address; unlimited by default (many trackers
     * may share a gateway's or a carrier's NAT address). Past it, like {@link #maxConnections}.
     * With the {@link #proxyProtocol} on, the address counted is the one the connection has once
     * its header is read: the client the header names (a client past its limit is closed before its
     * first line, {@link CloseReason#MAX_CONNECTIONS_PER_ADDRESS}, and reported to {@link
     * LineServerListener#connectionRefused} with its address), else the socket's peer. A proxy's
     * own connections are bounded by {@link #maxConnections}, and each lasts at most {@link
     * #handshakeTimeout} before its header.
     */
    public Builder maxConnectionsPerAddress(int maxConnectionsPerAddress) {
      this.maxConnectionsPerAddress =
          checkRange("maxConnectionsPerAddress", maxConnectionsPerAddress, 1, Integer.MAX_VALUE);
      return this;
    }

    /**
     * TCP keepalive on accepted TCP connections, so that a peer that vanished without a FIN or RST
     * (power lost, out of coverage) is noticed: after {@code idle} with no segment from the peer,
     * the kernel probes it every {@code interval}, and after {@code count} unanswered probes the
     * connection fails and is closed with {@link CloseReason#PEER_RESET}, freeing its descriptor
     * and its {@link #maxConnections} slot. A peer that answers probes is never closed by them: to
     * close live but silent peers, see {@link #idleTimeout}. On by default with 2 min, 15 s and 4
     * probes: a vanished peer is closed within 3 minutes of its last segment. {@code idle} and
     * {@code interval} are whole seconds, 1 s to 32767 s; {@code count} 1 to 127. Where the JDK
     * cannot set these timings on the platform, keepalive is still on with the operating system's
     * timings (on Linux, 2 h, 75 s and 9 probes), which is logged once at INFO. Unix-domain sockets
     * have no keepalive.
     */
    public Builder tcpKeepAlive(Duration idle, Duration interval, int count) {
      Objects.requireNonNull(idle, "idle");
      Objects.requireNonNull(interval, "interval");
      checkKeepAliveSeconds("tcpKeepAlive idle", idle);
      checkKeepAliveSeconds("tcpKeepAlive interval", interval);
      checkRange("tcpKeepAlive count", count, 1, KeepAlive.MAX_COUNT);
      this.keepAlive = true;
      this.keepAliveIdle = idle;
      this.keepAliveInterval = interval;
      this.keepAliveCount = count;
      return this;
    }

    /**
     * Turns TCP keepalive off ({@code false}), or on again ({@code true}, the default) with the
     * timings of {@link #tcpKeepAlive(Duration, Duration, int)}.
     */
    public Builder tcpKeepAlive(boolean on) {
      this.keepAlive = on;
      return this;
    }

    private static void checkKeepAliveSeconds(String name, Duration value) {
      Duration max = Duration.ofSeconds(KeepAlive.MAX_SECONDS);
      if (!value.equals(Duration.ofSeconds(value.toSeconds()))
          || value.compareTo(Duration.ofSeconds(1)) < 0
          || value.compareTo(max) > 0) {
        throw new IllegalArgumentException(
            name
                + ": "
                + value
                + " (expected: whole seconds, "
                + Duration.ofSeconds(1)
                + ".."
                + max
                + ")");
      }
    }

    /**
     * Admits only connections from these CIDR ranges, IPv4 or IPv6 ({@code "10.0.0.0/8"}, {@code
     * "2001:db8::/32"}, {@code "192.0.2.7"} for one address); by default every address. Others are
     * refused like past {@link #maxConnections}, with {@link RefusalReason#NOT_ALLOWED}. Ranges are
     * literals, never host names; an IPv4 range also matches its IPv4-mapped IPv6 form. Replaces
     * the ranges of an earlier call; none means no allow-list.
     *
     * @throws IllegalArgumentException for a range that is not a literal address with an optional
     *     prefix, or has bits set past its prefix
     */
    public Builder allow(String... ranges) {
      this.allow = parseRanges("allow", ranges);
      return this;
    }

    /**
     * Refuses connections from these CIDR ranges, as {@link #allow} describes them; the deny-list
     * wins over the allow-list. Replaces the ranges of an earlier call.
     */
    public Builder deny(String... ranges) {
      this.deny = parseRanges("deny", ranges);
      return this;
    }

    /**
     * Whether connections begin with a PROXY protocol header (v1 or v2) naming the client, as from
     * haproxy with {@code send-proxy} or {@code send-proxy-v2}; {@link ProxyProtocol#OFF} by
     * default. With it on, {@link ConnectionInfo#remoteAddress()} is the client's address and
     * {@link ConnectionInfo#proxyAddress()} the proxy's; the {@link #allow}/{@link #deny} ranges
     * are checked against both (so allow the proxies too), and {@link #maxConnectionsPerAddress}
     * counts the client. A connection whose header is malformed, cut short or later than {@link
     * #handshakeTimeout} is closed without a line delivered and reported to {@link
     * LineServerListener#handshakeFailed}. With {@link ProxyProtocol#OPTIONAL}, a connection that
     * has not begun a header's signature by then (it sent nothing, or a prefix of one such as
     * {@code "\r\n"}) is a plain one: what it sent is line data and it goes on.
     */
    public Builder proxyProtocol(ProxyProtocol proxyProtocol) {
      this.proxyProtocol = Objects.requireNonNull(proxyProtocol, "proxyProtocol");
      return this;
    }

    /**
     * Serves TLS 1.3 and 1.2 with {@code context} (its key managers hold the server's certificate
     * chain and key; its trust managers, with {@link #clientAuth}, judge client certificates). The
     * handshake's costly part (key exchange, signature, certificate checks, and the key and trust
     * managers' calls) runs on the server's {@link #tlsThreads}, the rest on the connection's I/O
     * thread; lines are split from the plaintext exactly as without TLS. A handshake that fails or
     * is not done within {@link #handshakeTimeout} closes the connection, reported once to {@link
     * LineServerListener#handshakeFailed}. {@link LineServer#close()} sends close_notify; the
     * peer's close_notify ends the stream like EOF (the unterminated tail is delivered).
     */
    public Builder tls(SSLContext context) {
      this.sslContext = Objects.requireNonNull(context, "tls");
      return this;
    }

    /**
     * Whether TLS clients must present a certificate ({@link ClientAuth#NONE} by default); needs
     * {@link #tls}. A verified client's chain is in {@link ConnectionInfo#peerCertificates()}.
     */
    public Builder clientAuth(ClientAuth clientAuth) {
      this.clientAuth = Objects.requireNonNull(clientAuth, "clientAuth");
      return this;
    }

    /**
     * With {@link #tls}: how many threads ({@code line-server-tls-N}, started as needed) run the
     * handshakes' costly part, so that however many clients connect at once, the I/O threads keep
     * serving the established connections; by default half the available processors, at least 1. A
     * connection waits for one of them without reading.
     */
    public Builder tlsThreads(int tlsThreads) {
      this.tlsThreads = checkRange("tlsThreads", tlsThreads, 1, 1024);
      return this;
    }

    /**
     * How long a connection may take to complete what comes before its lines (the PROXY protocol
     * header, the TLS handshake); 10 s by default, 1 ms to 1 h. With {@link ProxyProtocol#OPTIONAL}
     * a connection that has not begun a header by then is a plain one, and with {@link #tls} too
     * its TLS handshake then has this long again.
     */
    public Builder handshakeTimeout(Duration handshakeTimeout) {
      this.handshakeTimeout =
          checkDuration(
              "handshakeTimeout", handshakeTimeout, Duration.ofMillis(1), Duration.ofHours(1));
      return this;
    }

    private static List<AddressRanges.Range> parseRanges(String name, String... ranges) {
      List<AddressRanges.Range> parsed = new ArrayList<>();
      for (String range : ranges) {
        parsed.add(AddressRanges.parse(name, Objects.requireNonNull(range, name)));
      }
      return List.copyOf(parsed);
    }

    /**
     * Runs the sink on {@code executor} instead of on the I/O threads (a pool, or virtual threads),
     * so a slow sink delays no reading. Lines of one connection still arrive in order and never
     * concurrently; each is copied and counts against {@link #maxPendingBytes} until the sink
     * returns. The executor stays yours: {@link LineServer#close()} waits for the queued lines but
     * does not shut it down. Listener calls about the lines it was given, and usually {@code
     * connectionClosed}, then come from its threads (see {@link LineServerListener}).
     */
    public Builder sinkExecutor(Executor executor) {
      this.sinkExecutor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * With a {@link #sinkExecutor}: the most bytes of lines read and not yet through the sink,
     * across all connections, as the heap they hold: their bytes, 4 bytes a line and 64 bytes a
     * read; 64 MiB by default. When it is spent, connections stop reading before their next read
     * (the TCP window then pushes back on their senders) until the sink has worked the backlog down
     * to half. No line is dropped and the heap stays within this plus one read's lines per I/O
     * thread (257 KiB each, a little more with TLS), or one line up to {@code maxLineLength} when a
     * longer line ends in that read.
     */
    public Builder maxPendingBytes(long maxPendingBytes) {
      if (maxPendingBytes < 1024) {
        throw new IllegalArgumentException(
            "maxPendingBytes: " + maxPendingBytes + " (expected: 1024.." + Long.MAX_VALUE + ")");
      }
      this.maxPendingBytes = maxPendingBytes;
      return this;
    }

    /**
     * With a {@link #sinkExecutor}: how long lines may wait for the sink with none going through
     * before {@link LineServer#health()} calls the sink stalled; 10 s by default, 1 ms to 1 h. The
     * wait is measured per batch (the lines of one read of one connection), not per line, so that
     * the line path pays nothing for it: set it above the longest a sink takes for one batch. One
     * connection's sink stuck while others' go through is not a stall.
     */
    public Builder sinkStallThreshold(Duration sinkStallThreshold) {
      Objects.requireNonNull(sinkStallThreshold, "sinkStallThreshold");
      this.sinkStallThreshold =
          checkDuration(
              "sinkStallThreshold", sinkStallThreshold, Duration.ofMillis(1), Duration.ofHours(1));
      return this;
    }

    /** Receives every line as a String. Exactly one sink is required. */
    public Builder sink(LineSink sink) {
      Objects.requireNonNull(sink, "sink");
      return connectionSink((connection, line) -> sink.accept(line));
    }

    /** Receives every line as a String, with its connection. Exactly one sink is required. */
    public Builder connectionSink(ConnectionLineSink sink) {
      Objects.requireNonNull(sink, "sink");
      checkNoSink();
      this.stringSink = sink;
      return this;
    }

    /**
     * Receives every line as bytes, with its connection, without decoding or copying: no allocation
     * per line. The {@link Line} is valid only during the call. Exactly one sink is required.
     */
    public Builder byteSink(ByteLineSink sink) {
      Objects.requireNonNull(sink, "sink");
      checkNoSink();
      this.byteSink = sink;
      return this;
    }

    private void checkNoSink() {
      if (stringSink != null || byteSink != null) {
        throw new IllegalStateException("sink: already set (expected: one sink per server)");
      }
    }

    /**
     * The most bytes a connection holds that were sent to its peer ({@link ConnectionInfo#send})
     * and not yet written, because the peer reads slowly or not at all; 64 KiB by default. A send
     * that would pass it returns {@link SendResult#FULL} and {@link #sendQueueFull} says what
     * follows. Besides these bytes, a connection's queue holds at most 24 KiB of buffers partly
     * filled or partly written, and with TLS its records being written (up to 34 KiB); one that
     * never sent holds nothing.
     */
    public Builder maxSendQueueBytes(int maxSendQueueBytes) {
      this.maxSendQueueBytes = checkRange("maxSendQueueBytes", maxSendQueueBytes, 1, 1 << 30);
      return this;
    }

    /**
     * What happens to a connection whose send queue is full: {@link SendQueueFull#CLOSE} (the
     * default) closes it as a {@link CloseReason#SLOW_READER}, {@link SendQueueFull#REFUSE} keeps
     * it and refuses the sends until its peer has read.
     */
    public Builder sendQueueFull(SendQueueFull sendQueueFull) {
      this.sendQueueFull = Objects.requireNonNull(sendQueueFull, "sendQueueFull");
      return this;
    }

    /** Observes connections and problems; by default every event is logged (see the interface). */
    public Builder listener(LineServerListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Binds synchronously and starts serving.
     *
     * @throws BindException if the address cannot be bound; the message names the address
     * @throws IOException if the listening socket or a selector cannot be opened
     * @throws IllegalStateException if no sink was set, or both a Unix socket and a bind address
     */
    public LineServer start() throws IOException {
      if (stringSink == null && byteSink == null) {
        throw new IllegalStateException(
            "sink: not set (expected: sink, connectionSink or byteSink before start())");
      }
      if (clientAuth != ClientAuth.NONE && sslContext == null) {
        throw new IllegalStateException(
            "clientAuth: " + clientAuth + " without tls (expected: tls(SSLContext) too)");
      }
      if (tlsThreads != 0 && sslContext == null) {
        throw new IllegalStateException(
            "tlsThreads: " + tlsThreads + " without tls (expected: tls(SSLContext) too)");
      }
      if (sslContext != null) {
        Tls.serverEngine(sslContext, clientAuth); // fails now, not at the first connection
      }
      if (unixSocket != null && bindAddress != null) {
        throw new IllegalStateException(
            "unixSocket: " + unixSocket + " with bindAddress: " + bindAddress + " (expected: one)");
      }
      Settings settings =
          new Settings(
              name,
              new Settings.Listen(port, bindAddress, unixSocket, backlog),
              ioThreads,
              new Settings.Framing(maxLineLength, (byte) delimiter, charset),
              new Settings.SinkMode(
                  stringSink,
                  byteSink,
                  sinkExecutor,
                  maxPendingBytes,
                  sinkStallThreshold.toNanos()),
              listener,
              new Settings.Supervision(maxRestarts, restartPeriod.toNanos()),
              new Settings.Timeouts(
                  idleTimeout.toNanos(),
                  lineTimeout.toNanos(),
                  handshakeTimeout.toNanos(),
                  shutdownTimeout.toNanos()),
              new Settings.Limits(
                  maxConnections, maxConnectionsPerAddress, new AddressRanges(allow, deny)),
              proxyProtocol,
              new KeepAlive(
                  keepAlive,
                  (int) keepAliveIdle.toSeconds(),
                  (int) keepAliveInterval.toSeconds(),
                  keepAliveCount),
              sslContext == null
                  ? null
                  : new Settings.TlsSettings(sslContext, clientAuth, tlsThreads),
              new Settings.Sending(maxSendQueueBytes, sendQueueFull));
      Log.load(); // with the engine's preparations for running out of file descriptors
      return new LineServer(Engine.start(settings));
    }

    private static int checkRange(String name, int value, int min, int max) {
      if (value < min || value > max) {
        throw new IllegalArgumentException(
            name + ": " + value + " (expected: " + min + ".." + max + ")");
      }
      return value;
    }

    private static Duration checkDuration(String name, Duration value, Duration min, Duration max) {
      if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
        throw new IllegalArgumentException(
            name + ": " + value + " (expected: " + min + ".." + max + ")");
      }
      return value;
    }
  }
}
