package dev.lineserver.internal;

import static java.util.Objects.requireNonNull;

import dev.lineserver.CloseReason;
import dev.lineserver.LineServerListener;
import dev.lineserver.ProxyProtocol;
import dev.lineserver.RefusalReason;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;

/**
 * One accepted socket and its line buffer, the unit that fails and restarts alone. Owned by one I/O
 * thread, which alone calls it. Bytes flow {@link #onReadable} → (a {@link ProxyHeader} first, if
 * on) → (the {@link TlsStage}, if on) → {@link #received} → {@link LineBuffer} → sink. A connection
 * is announced (opened for listener and sink) once its header and handshake are through; once
 * {@link #closed}, no line of it is read. With a sink executor, lines go through its {@link
 * SinkQueue}, and reading pauses while the server's {@link Budget} is spent, as it does while the
 * TLS engine's tasks run on the server's {@link TlsTasks}. While the server drains, {@link
 * #drainStep} ends it once it is quiet with no partial input, or cuts it at the deadline; a line
 * its peer did not end is never delivered then.
 */
final class Connection implements TlsStage.Plaintext {
  /** Reads per readiness event before the I/O thread turns to its other connections. */
  private static final int MAX_READS_PER_EVENT = 16;

  private static final ByteBuffer NO_BYTES = ByteBuffer.allocate(0);

  private final SocketChannel channel;
  private final Peer peer;
  private final Settings settings;
  private final Services services;
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
  private long pausedAtNanos;
  private boolean retrying;
  int slot = -1; // the loop's index of this connection while registered

  Connection(SocketChannel channel, Peer peer, Settings settings, Services services, IoLoop loop) {
    this.channel = channel;
    this.peer = peer;
    this.settings = settings;
    this.services = services;
    this.loop = loop;
    Settings.Framing framing = settings.framing();
    this.buffer = new LineBuffer(framing.maxLineLength(), framing.delimiter());
    this.counters = loop.counters();
    this.sinkCall = new SinkCall(peer, settings, counters, loop::isAbandoned);
    Executor executor = settings.sink().executor();
    this.queue =
        executor == null
            ? null
            : new SinkQueue(this, services.budget(), settings, executor, loop.chunk());
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
      services.budget().queueStarted(queue);
    }
    this.lastReadNanos = System.nanoTime();
    Settings.TlsSettings tlsSettings = settings.tls();
    if (tlsSettings != null) {
      tls =
          new TlsStage(
              Tls.serverEngine(tlsSettings.context(), tlsSettings.clientAuth()),
              loop.plaintextBuffer());
    }
    announceIfReady();
    if (!announced) {
      handshakeDeadlineNanos = lastReadNanos + settings.timeouts().handshakeNanos();
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

  /**
   * Reads what the socket has, delivering every complete line; at EOF, the tail too. With a sink
   * executor, pauses before a read once the budget is spent, so the budget is passed by at most one
   * read per I/O thread. Returns whether the socket was found empty.
   */
  boolean onReadable(ByteBuffer readBuffer) {
    for (int reads = 0; reads < MAX_READS_PER_EVENT && !closed; reads++) {
      if (awaitingTls) {
        return false; // the stage holds what it has until the engine's tasks ran
      }
      if (queue != null && services.budget().isSpent()) {
        pause();
        return false;
      }
      if (loop.isPastDrainDeadline()) {
        close(CloseReason.SHUTDOWN_TIMEOUT); // what was read is through; nothing more is read
        return false;
      }
      readBuffer.clear();
      int n;
      try {
        n = channel.read(readBuffer);
      } catch (IOException e) {
        Events.LOGGER.log(Level.DEBUG, () -> "read failed on " + peer + ": " + e);
        close(loop.isAbandoned() ? CloseReason.SHUTDOWN_TIMEOUT : CloseReason.PEER_RESET);
        return false;
      }
      if (n < 0) {
        finish(CloseReason.PEER_EOF);
        return false;
      }
      if (n == 0) {
        return true;
      }
      lastReadNanos = System.nanoTime();
      counters.add(Counter.BYTES, n);
      readBuffer.flip();
      ByteBuffer bytes = loop.splittable(readBuffer);
      if (proxyHeader != null && !readProxyHeader(bytes)) {
        continue;
      }
      fromSocket(bytes);
      if (awaitingTls) {
        return false;
      }
      if (n < readBuffer.capacity()) {
        return false;
      }
    }
    return false;
  }

  /**
   * Reads the PROXY header from the start of {@code bytes}; true once it is through and the rest of
   * {@code bytes} is line data. A bad header closes the connection, and so does a client the ranges
   * refuse or that is past its per-address limit.
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
    if (status == ProxyHeader.Status.NOT_PROXY) {
      return servePlain(header);
    }
    proxyHeader = null;
    InetSocketAddress client = header.source();
    if (client != null) {
      if (!services.admission().allows(client)) {
        refused(client, CloseReason.NOT_ALLOWED, RefusalReason.NOT_ALLOWED);
        return false;
      }
      peer.proxied(client);
    }
    if (!admittedAfterHeader()) {
      return false;
    }
    announceIfReady();
    return true;
  }

  /**
   * Optional mode: the stream began with no PROXY header after all; its bytes held so far are line
   * data. True if the connection goes on.
   */
  private boolean servePlain(ProxyHeader header) {
    proxyHeader = null;
    if (!admittedAfterHeader()) {
      return false;
    }
    announceIfReady();
    fromSocket(header.heldBytes());
    return !closed;
  }

  /** Counts the connection under its address now known; past that address's limit, closes it. */
  private boolean admittedAfterHeader() {
    if (services.admission().admitAfterHeader(peer) == null) {
      return true;
    }
    refused(
        peer.remoteAddress(),
        CloseReason.MAX_CONNECTIONS_PER_ADDRESS,
        RefusalReason.MAX_CONNECTIONS_PER_ADDRESS);
    return false;
  }

  private void refused(SocketAddress remote, CloseReason closeReason, RefusalReason refusalReason) {
    close(closeReason);
    LineServerListener listener = settings.listener();
    Events.report(() -> listener.connectionRefused(remote, refusalReason));
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
      requireNonNull(services.tlsTasks()).run(tasks, loop::execute, this::tlsTasksRan);
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
    Events.tlsFailed(peer, error);
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
    pausedAtNanos = System.nanoTime();
    selectionKey.interestOps(interestOps());
    counters.add(Counter.READS_PAUSED, 1);
    loop.paused(this);
  }

  /** Reads again after a pause; from the I/O thread. */
  void resume() {
    SelectionKey selectionKey = key;
    boolean wasPaused = paused;
    paused = false;
    if (wasPaused && !closed && selectionKey != null && selectionKey.isValid()) {
      selectionKey.interestOps(interestOps());
      // The peer was held back by us: its clocks stood still meanwhile, and go on from there, so
      // a sender that is held back again and again still runs out of time while it is read.
      long held = System.nanoTime() - pausedAtNanos;
      lastReadNanos += held;
      if (partialSinceNanos != 0) {
        partialSinceNanos += held;
      }
      if (handshakeDeadlineNanos != 0) {
        handshakeDeadlineNanos += held;
      }
    }
  }

  /**
   * One step of the server's drain, on each drain tick: past the deadline, closes with {@code
   * SHUTDOWN_TIMEOUT}, dropping a partial line; else, unless reading is paused for the sink, reads
   * what the socket holds, and closes with {@code SERVER_CLOSE} once nothing arrived for {@link
   * IoLoop#QUIET_NANOS} since the drain began, the socket is empty and no partial line or record
   * waits for its end. A connection still in its PROXY header or TLS handshake has sent no line:
   * quiet, it ends like an idle one ({@link #finish}, which reports a begun handshake as failed).
   * So a connection the server was too busy to read, or held back, is not taken for quiet, and a
   * line is delivered only when its peer ended it.
   */
  void drainStep(long now, long drainStart, boolean late, ByteBuffer readBuffer) {
    if (closed) {
      return;
    }
    if (late) {
      close(CloseReason.SHUTDOWN_TIMEOUT);
      return;
    }
    if (paused) {
      return;
    }
    // While the TLS engine's tasks run, the server works, not the peer: nothing is read.
    boolean empty = awaitingTls || onReadable(readBuffer);
    if (closed || !empty || now - Math.max(drainStart, lastReadNanos) < IoLoop.QUIET_NANOS) {
      return;
    }
    ProxyHeader header = proxyHeader;
    if (header != null && header.mayBePlain() && !servePlain(header)) {
      return; // optional mode, quiet with no header begun: its bytes were plain lines
    }
    if (closed) {
      return;
    }
    if (!announced) {
      finish(CloseReason.SERVER_CLOSE); // in its header or handshake: no line came yet
    } else if (!hasPartialInput()) {
      close(CloseReason.SERVER_CLOSE);
    }
  }

  /** True while bytes wait for their end: a partial line, TLS record or PROXY header. */
  private boolean hasPartialInput() {
    TlsStage stage = tls;
    ProxyHeader header = proxyHeader;
    return buffer.hasPartialLine()
        || (stage != null && (stage.hasPartialRecord() || (!announced && stage.started())))
        || (header != null && (header.version() != 0 || header.heldBytes().hasRemaining()));
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
      if (header.version() == 0 && !header.heldBytes().hasRemaining()) {
        close(reason);
        return;
      }
      if (!header.mayBePlain()) {
        handshakeFailed(new ProxyHeaderException("connection ended inside its PROXY header"));
        return;
      }
      if (!servePlain(header)) {
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
      ProxyHeader header = proxyHeader;
      if (!closed && !paused && header != null && header.mayBePlain()) {
        // Optional mode: no header began, so this is a plain connection, idle or slow.
        if (servePlain(header) && !announced) {
          handshakeDeadlineNanos = now + settings.timeouts().handshakeNanos(); // TLS's own
        }
        return;
      }
      if (!closed && !paused && !announced) {
        String what = proxyHeader != null ? "PROXY protocol header" : "TLS handshake";
        handshakeFailed(
            new TimeoutException(
                "no complete "
                    + what
                    + " within "
                    + Duration.ofNanos(settings.timeouts().handshakeNanos())));
      }
      return;
    }
    if (!timedOut(now, idleNanos, lineNanos)) {
      return;
    }
    onReadable(readBuffer);
    if (closed || paused || !timedOut(now, idleNanos, lineNanos)) {
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
        if (queue != null) {
          queue.seal();
        }
        if (loop.isAbandoned()) {
          close(CloseReason.SHUTDOWN_TIMEOUT);
          return;
        }
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
      counters.add(Counter.TOO_LONG, 1);
      long length = buffer.tooLongLength();
      LineServerListener listener = settings.listener();
      if (!loop.isAbandoned()) {
        Events.report(() -> listener.lineTooLong(peer, length));
      }
      return;
    }
    ByteBuffer bytes = buffer.lineBytes();
    int start = buffer.lineStart();
    int length = buffer.lineLength();
    if (queue != null) {
      queue.offer(bytes, start, length);
      return;
    }
    if (loop.isAbandoned()) {
      counters.addShared(Counter.LINES_DROPPED, 1); // close() gave up on this thread's sink
      return;
    }
    counters.add(Counter.LINES, 1);
    restart(sinkCall.deliver(bytes, start, length), false);
  }

  /**
   * After a line's failure, re-creates the line buffer, which takes over the unread input (with
   * {@code resync}, from the next LF: the buffer itself failed); past the restart intensity,
   * closes.
   */
  private void restart(SinkCall.Outcome outcome, boolean resync) {
    switch (outcome) {
      case DELIVERED -> {}
      case FAILED -> buffer = buffer.restart(resync);
      case RESTART_LIMIT -> close(CloseReason.RESTART_LIMIT);
      case CRASHED -> close(CloseReason.SERVER_ERROR);
    }
  }

  /**
   * Closes the socket; no line is read after this, and a partial line is dropped (counted).
   * Idempotent. Lines already queued for a sink on an executor are still delivered (but after a
   * restart limit or a sink's error), and the closed event follows them.
   */
  void close(CloseReason reason) {
    if (closed) {
      return;
    }
    closed = true;
    if (announced && hasPartialInput()) {
      counters.addShared(Counter.PARTIAL_LINES_DROPPED, 1);
    }
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
    services.admission().release(peer);
    if (queue == null || key == null) {
      counters.closed(reason); // with a queue, once its last line is through (sinkDone)
    }
    if (key == null) {
      Events.LOGGER.log(Level.DEBUG, () -> "closed " + peer + " before reading it: " + reason);
      return;
    }
    key.cancel();
    loop.connectionClosed(this);
    closeReason = reason;
    if (queue != null) {
      queue.end(reason == CloseReason.RESTART_LIMIT || reason == CloseReason.SERVER_ERROR);
    } else {
      sinkDone();
    }
  }

  /** Reports the connection closed, once its last line went through the sink, if it was opened. */
  void sinkDone() {
    SinkQueue sinkQueue = queue;
    CloseReason failure = sinkQueue == null ? null : sinkQueue.failure();
    CloseReason reason = failure != null ? failure : requireNonNull(closeReason);
    if (sinkQueue != null) {
      counters.closed(reason);
    }
    LineServerListener listener = settings.listener();
    boolean givenUp = loop.isAbandoned() || (sinkQueue != null && sinkQueue.isGivenUp());
    if (announced && !givenUp) {
      Events.report(() -> listener.connectionClosed(peer, reason));
    }
    if (sinkQueue != null) {
      services.budget().queueDone(sinkQueue);
    }
  }

  /** From a sink task: closes the connection on its I/O thread. */
  void closeFromSink(CloseReason reason) {
    loop.execute(() -> close(reason));
  }

  /**
   * The sink executor refused this connection's lines (from any thread). They stay queued, within
   * the budget, and the loop tries again shortly; once the loop has ended, {@code close()} does,
   * while it waits for the queues.
   */
  void sinkRejected(Throwable error) {
    if (loop.isRunning()) {
      loop.execute(() -> onSinkRejected(error));
    }
  }

  private void onSinkRejected(Throwable error) {
    Events.sinkRejected(
        peer, () -> "the sink executor refused " + peer + "'s lines (" + error + "); retrying");
    if (!retrying) {
      retrying = true;
      loop.retryLater(this);
    }
  }

  /**
   * The sink executor is shut down and will never take this connection's lines: they were dropped
   * (counted); the connection is closed with {@code SERVER_ERROR}. From any thread.
   */
  void executorGone(long dropped) {
    Events.sinkRejected(
        peer,
        () ->
            "the sink executor is shut down: closing "
                + peer
                + " with SERVER_ERROR, "
                + dropped
                + " queued lines dropped");
    if (loop.isRunning()) {
      loop.execute(() -> close(CloseReason.SERVER_ERROR));
    }
  }

  /** The loop's retry after a refusal: hands the queue to the executor again. */
  void retrySink() {
    retrying = false;
    requireNonNull(queue).retry();
  }

  /** Past the drain's deadline, a queue the executor keeps refusing is given up: its lines drop. */
  void abandonSink() {
    retrying = false;
    requireNonNull(queue).abandon(false);
  }
}
