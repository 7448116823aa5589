package dev.lineserver.internal;

import static java.util.Objects.requireNonNull;

import dev.lineserver.CloseReason;
import dev.lineserver.LineServerListener;
import dev.lineserver.ProxyProtocol;
import dev.lineserver.RefusalReason;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;

/**
 * One accepted socket and its line buffer, the unit that fails and restarts alone. Owned by one I/O
 * thread, which alone calls it. Bytes flow {@link #onReadable} → (a {@link ProxyHeader} first, if
 * on) → (the {@link TlsStage}, if on) → {@link #received} → {@link LineBuffer} → sink. A connection
 * is announced (opened for listener and sink) once its header and handshake are through; once
 * {@link #closed}, no line of it is read. With a sink executor, lines go through its {@link
 * SinkQueue}, and reading pauses while the server's {@link Budget} is spent, as it does while the
 * TLS engine's tasks run on the server's {@link TlsTasks}.
 */
final class Connection implements TlsStage.Plaintext {
  /** Reads per readiness event before the I/O thread turns to its other connections. */
  private static final int MAX_READS_PER_EVENT = 16;

  private static final ByteBuffer NO_BYTES = ByteBuffer.allocate(0);

  private final SocketChannel channel;
  private final Peer peer;
  private final Settings settings;
  private final IoLoop loop;
  private final SinkCall sinkCall;
  private LineBuffer buffer;
  private @Nullable SelectionKey key;
  private final Counters counters;
  private final @Nullable SinkQueue queue;
  private @Nullable ProxyHeader proxyHeader;
  private @Nullable TlsStage tls;
  private boolean announced;
  private boolean writing;
  private boolean closed;
  private boolean paused;
  private boolean awaitingTls;
  private @Nullable CloseReason closeReason;
  private long lastReadNanos;
  private long partialSinceNanos;
  private long handshakeDeadlineNanos;

  Connection(SocketChannel channel, Peer peer, Settings settings, IoLoop loop) {
    this.channel = channel;
    this.peer = peer;
    this.settings = settings;
    this.loop = loop;
    this.buffer = new LineBuffer(settings.maxLineLength(), settings.delimiter());
    this.counters = loop.counters();
    this.sinkCall = new SinkCall(peer, settings, counters);
    Executor executor = settings.sinkExecutor();
    this.queue =
        executor == null ? null : new SinkQueue(this, settings, executor, settings.budget());
    if (settings.proxyProtocol() != ProxyProtocol.OFF) {
      this.proxyHeader =
          new ProxyHeader(
              settings.proxyProtocol() == ProxyProtocol.OPTIONAL,
              ProxyHeader.DEFAULT_MAX_V2_LENGTH);
    }
  }

  Counters counters() {
    return counters;
  }

  Peer peer() {
    return peer;
  }

  SocketChannel channel() {
    return channel;
  }

  void opened(SelectionKey key) {
    this.key = key;
    if (queue != null) {
      settings.budget().queueStarted();
    }
    this.lastReadNanos = System.nanoTime();
    SSLContext context = settings.sslContext();
    if (context != null) {
      tls = new TlsStage(Tls.serverEngine(context, settings.clientAuth()), loop.plaintextBuffer());
    }
    announceIfReady();
    if (!announced) {
      handshakeDeadlineNanos = lastReadNanos + settings.handshakeTimeoutNanos();
    }
  }

  /**
   * Opens the connection for the listener and the sink once its PROXY header and TLS handshake, if
   * any, are through.
   */
  private void announceIfReady() {
    TlsStage stage = tls;
    if (announced || proxyHeader != null || (stage != null && !stage.handshakeDone())) {
      return;
    }
    if (stage != null) {
      peer.secured(stage.session());
    }
    announced = true;
    handshakeDeadlineNanos = 0;
    LineServerListener listener = settings.listener();
    Events.report(() -> listener.connectionOpened(peer));
  }

  long lastReadNanos() {
    return lastReadNanos;
  }

  /** Reads what the socket has, delivering every complete line; at EOF, the tail too. */
  void onReadable(ByteBuffer readBuffer) {
    for (int reads = 0; reads < MAX_READS_PER_EVENT && !closed; reads++) {
      readBuffer.clear();
      int n;
      try {
        n = channel.read(readBuffer);
      } catch (IOException e) {
        Events.LOGGER.log(Level.DEBUG, () -> "read failed on " + peer + ": " + e);
        close(CloseReason.PEER_RESET);
        return;
      }
      if (n < 0) {
        finish(CloseReason.PEER_EOF);
        return;
      }
      if (n == 0) {
        return;
      }
      lastReadNanos = System.nanoTime();
      counters.add(Counters.BYTES, n);
      readBuffer.flip();
      ByteBuffer bytes = loop.splittable(readBuffer);
      if (proxyHeader != null && !readProxyHeader(bytes)) {
        continue;
      }
      fromSocket(bytes);
      if (awaitingTls) {
        return;
      }
      if (queue != null && settings.budget().isSpent()) {
        pause();
        return;
      }
      if (n < readBuffer.capacity()) {
        return;
      }
    }
  }

  /**
   * Reads the PROXY header from the start of {@code bytes}; true once it is through and the rest of
   * {@code bytes} is line data. A bad header closes the connection.
   */
  private boolean readProxyHeader(ByteBuffer bytes) {
    ProxyHeader header = requireNonNull(proxyHeader);
    ProxyHeader.Status status;
    try {
      status = header.feed(bytes);
    } catch (ProxyHeaderException e) {
      handshakeFailed(e);
      return false;
    }
    if (status == ProxyHeader.Status.NEED_MORE) {
      return false;
    }
    proxyHeader = null;
    if (status == ProxyHeader.Status.NOT_PROXY) {
      announceIfReady();
      fromSocket(header.heldBytes());
      return !closed;
    }
    InetSocketAddress client = header.source();
    if (client != null) {
      if (!settings.admission().allows(client)) {
        close(CloseReason.NOT_ALLOWED);
        LineServerListener listener = settings.listener();
        Events.report(() -> listener.connectionRefused(client, RefusalReason.NOT_ALLOWED));
        return false;
      }
      peer.proxied(client);
    }
    announceIfReady();
    return true;
  }

  /** Socket bytes after any PROXY header: through TLS if on, then to the line buffer. */
  private void fromSocket(ByteBuffer bytes) {
    TlsStage stage = tls;
    if (stage == null) {
      received(bytes);
      return;
    }
    try {
      stage.unwrap(bytes, this);
    } catch (SSLException e) {
      flush(stage); // the alert, if any
      if (!closed) {
        tlsFailed(e);
      }
      return;
    }
    if (closed || !flush(stage)) {
      return;
    }
    announceIfReady();
    if (stage.inboundDone()) {
      finish(CloseReason.PEER_EOF); // answers the close_notify with ours
    } else if (stage.hasPartialRecord() && partialSinceNanos == 0) {
      partialSinceNanos = lastReadNanos; // a record begun and not ended counts as a partial line
    }
    Runnable tasks = stage.takeTasks();
    if (tasks != null && !closed) {
      setAwaitingTls(true);
      requireNonNull(settings.tlsTasks()).run(tasks, loop::execute, this::tlsTasksRan);
    }
  }

  /** On the I/O thread, once the TLS engine's tasks ran: reads again, and the stage goes on. */
  private void tlsTasksRan(@Nullable Throwable failure) {
    TlsStage stage = requireNonNull(tls);
    if (closed) {
      return;
    }
    stage.tasksDone(failure);
    setAwaitingTls(false);
    fromSocket(NO_BYTES);
  }

  private void tlsFailed(SSLException error) {
    if (!announced) {
      handshakeFailed(error);
      return;
    }
    Events.LOGGER.log(Level.WARNING, () -> "TLS failed on " + peer + ": " + error.getMessage());
    close(CloseReason.PEER_RESET);
  }

  /**
   * Writes what the TLS stage has for the peer; what the socket does not take now is written when
   * it is writable. False if writing failed, which closes the connection.
   */
  private boolean flush(TlsStage stage) {
    ByteBuffer out = stage.outbound();
    try {
      while (out.hasRemaining()) {
        if (channel.write(out) == 0) {
          setWriting(true);
          return true;
        }
      }
    } catch (IOException e) {
      Events.LOGGER.log(Level.DEBUG, () -> "write failed on " + peer + ": " + e);
      if (!closed) {
        close(CloseReason.PEER_RESET);
      }
      return false;
    }
    setWriting(false);
    return true;
  }

  /** The socket can take bytes again: writes the rest of the TLS stage's. */
  void onWritable() {
    TlsStage stage = tls;
    if (stage != null && !closed) {
      flush(stage);
    }
  }

  private void setWriting(boolean writing) {
    SelectionKey selectionKey = key;
    if (this.writing == writing || closed || selectionKey == null || !selectionKey.isValid()) {
      return;
    }
    this.writing = writing;
    selectionKey.interestOps(interestOps());
  }

  private void setAwaitingTls(boolean awaiting) {
    SelectionKey selectionKey = key;
    this.awaitingTls = awaiting;
    if (!closed && selectionKey != null && selectionKey.isValid()) {
      selectionKey.interestOps(interestOps());
    }
  }

  private int interestOps() {
    return (paused || awaitingTls ? 0 : SelectionKey.OP_READ)
        | (writing ? SelectionKey.OP_WRITE : 0);
  }

  private void handshakeFailed(Exception error) {
    close(CloseReason.HANDSHAKE_FAILED);
    LineServerListener listener = settings.listener();
    Events.report(() -> listener.handshakeFailed(peer, error));
  }

  /** Stops reading until the sink catches up: the peer's sends fill the TCP window and block. */
  private void pause() {
    SelectionKey selectionKey = key;
    if (closed || paused || selectionKey == null) {
      return;
    }
    paused = true;
    selectionKey.interestOps(interestOps());
    counters.add(Counters.READS_PAUSED, 1);
    loop.paused(this);
  }

  /** Reads again after a pause; from the I/O thread. */
  void resume() {
    SelectionKey selectionKey = key;
    boolean wasPaused = paused;
    paused = false;
    if (wasPaused && !closed && selectionKey != null && selectionKey.isValid()) {
      selectionKey.interestOps(interestOps());
      // The peer was held back by us: its idle and line clocks start again now.
      lastReadNanos = System.nanoTime();
      if (partialSinceNanos != 0) {
        partialSinceNanos = lastReadNanos;
      }
    }
  }

  /**
   * Delivers the unterminated tail, if any, then closes with {@code reason}. Inside a PROXY header,
   * a connection that sent part of one failed; one that sent nothing just closes.
   */
  void finish(CloseReason reason) {
    if (closed) {
      return;
    }
    ProxyHeader header = proxyHeader;
    if (header != null) {
      proxyHeader = null;
      boolean recognized = header.version() != 0;
      if (!recognized && !header.heldBytes().hasRemaining()) {
        close(reason);
        return;
      }
      if (recognized || settings.proxyProtocol() == ProxyProtocol.REQUIRED) {
        handshakeFailed(new ProxyHeaderException("connection ended inside its PROXY header"));
        return;
      }
      announceIfReady();
      fromSocket(header.heldBytes());
      if (closed) {
        return;
      }
    }
    TlsStage stage = tls;
    if (stage != null && !announced) {
      if (stage.started()) {
        handshakeFailed(new SSLException("connection ended during the TLS handshake"));
      } else {
        close(reason);
      }
      return;
    }
    int event = buffer.finish();
    if (event != LineBuffer.NONE) {
      handle(event);
    }
    close(reason);
  }

  /**
   * Closes the connection if it has been silent for {@code idleNanos} or has held a partial line
   * for {@code lineNanos} (each 0 for off). The partial line is dropped: its sender stopped
   * mid-line. Reads first what may already wait in the socket, so that an I/O thread running behind
   * never times out a peer whose bytes have arrived.
   */
  void checkTimeouts(long now, long idleNanos, long lineNanos, ByteBuffer readBuffer) {
    if (paused) {
      return; // the server stopped reading, not the peer sending: no clock runs against it
    }
    if (handshakeDeadlineNanos != 0 && now - handshakeDeadlineNanos >= 0) {
      onReadable(readBuffer);
      if (!closed && !announced) {
        String what = proxyHeader != null ? "PROXY protocol header" : "TLS handshake";
        handshakeFailed(
            new TimeoutException(
                "no complete "
                    + what
                    + " within "
                    + Duration.ofNanos(settings.handshakeTimeoutNanos())));
      }
      return;
    }
    if (!timedOut(now, idleNanos, lineNanos)) {
      return;
    }
    onReadable(readBuffer);
    if (closed || !timedOut(now, idleNanos, lineNanos)) {
      return;
    }
    boolean idle = idleNanos > 0 && now - lastReadNanos >= idleNanos;
    close(idle ? CloseReason.IDLE_TIMEOUT : CloseReason.LINE_TIMEOUT);
  }

  private boolean timedOut(long now, long idleNanos, long lineNanos) {
    return (idleNanos > 0 && now - lastReadNanos >= idleNanos)
        || (lineNanos > 0 && partialSinceNanos != 0 && now - partialSinceNanos >= lineNanos);
  }

  /**
   * Splits the remaining bytes of {@code bytes}, line data, and hands every complete line to the
   * sink.
   */
  @Override
  public void received(ByteBuffer bytes) {
    if (closed) {
      return;
    }
    if (!announced) {
      announceIfReady(); // TLS plaintext flows once the handshake is done
    }
    buffer.feed(bytes);
    boolean ended = false;
    while (!closed) {
      int event;
      try {
        event = buffer.next();
      } catch (RuntimeException e) {
        restart(sinkCall.failed(null, e), true);
        continue;
      }
      if (event == LineBuffer.NONE) {
        buffer.releaseIfEmpty();
        // A partial line left now began in this read if a line ended in it, else earlier.
        if (!buffer.hasPartialLine()) {
          partialSinceNanos = 0;
        } else if (ended || partialSinceNanos == 0) {
          partialSinceNanos = lastReadNanos;
        }
        return;
      }
      ended = true;
      handle(event);
    }
  }

  private void handle(int event) {
    if (event == LineBuffer.TOO_LONG) {
      counters.add(Counters.TOO_LONG, 1);
      long length = buffer.tooLongLength();
      LineServerListener listener = settings.listener();
      Events.report(() -> listener.lineTooLong(peer, length));
      return;
    }
    counters.add(Counters.LINES, 1);
    ByteBuffer bytes = buffer.lineBytes();
    int start = buffer.lineStart();
    int length = buffer.lineLength();
    if (queue != null) {
      queue.offer(bytes, start, length);
      return;
    }
    restart(sinkCall.deliver(bytes, start, length), false);
  }

  /**
   * After a line's failure, re-creates the line buffer, which takes over the unread input (with
   * {@code resync}, from the next LF: the buffer itself failed); past the restart intensity,
   * closes.
   */
  private void restart(SinkCall.Outcome outcome, boolean resync) {
    if (outcome == SinkCall.Outcome.FAILED) {
      buffer = buffer.restart(resync);
    } else if (outcome == SinkCall.Outcome.RESTART_LIMIT) {
      close(CloseReason.RESTART_LIMIT);
    }
  }

  /**
   * Closes the socket; no line is read after this. Idempotent. Lines already queued for a sink on
   * an executor are still delivered (but after a restart limit), and the closed event follows them.
   */
  void close(CloseReason reason) {
    if (closed) {
      return;
    }
    closed = true;
    TlsStage stage = tls;
    if (stage != null) {
      stage.abandon();
    }
    if (stage != null && stage.handshakeDone()) {
      stage.closeOutbound();
      try {
        channel.write(stage.outbound()); // close_notify, if the socket takes it now
      } catch (IOException e) {
        Events.LOGGER.log(Level.DEBUG, () -> "close_notify to " + peer + " failed: " + e);
      }
    }
    try {
      channel.close();
    } catch (IOException e) {
      Events.LOGGER.log(Level.DEBUG, () -> "closing " + peer + " failed: " + e);
    }
    settings.admission().release(peer.socketRemoteAddress());
    counters.closed(reason);
    if (key == null) {
      Events.LOGGER.log(Level.DEBUG, () -> "closed " + peer + " before reading it: " + reason);
      return;
    }
    key.cancel();
    loop.connectionClosed();
    closeReason = reason;
    if (queue != null) {
      queue.end(reason == CloseReason.RESTART_LIMIT);
    } else {
      sinkDone();
    }
  }

  /** Reports the connection closed, once its last line went through the sink, if it was opened. */
  void sinkDone() {
    CloseReason reason = requireNonNull(closeReason);
    LineServerListener listener = settings.listener();
    if (announced) {
      Events.report(() -> listener.connectionClosed(peer, reason));
    }
    if (queue != null) {
      settings.budget().queueDone();
    }
  }

  /** From a sink task: closes the connection on its I/O thread. */
  void closeFromSink(CloseReason reason) {
    loop.execute(() -> close(reason));
  }
}
