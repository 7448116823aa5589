package dev.lineserver.internal;

import static java.util.Objects.requireNonNull;

import dev.lineserver.CloseReason;
import dev.lineserver.LineServerListener;
import dev.lineserver.RefusalReason;
import dev.lineserver.SendQueueFull;
import dev.lineserver.SendResult;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.Charset;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * One accepted socket, the unit that fails and restarts alone: its {@link Transport}, its pipeline
 * of {@link Stage}s (assembled by {@link Pipeline}), its {@link ConnectionClock}, with a sink
 * executor its {@link SinkQueue}, and once the application sent to it its {@link Outbox}. Its I/O
 * thread alone calls it, but for the sends (from any thread, under this object's lock) and the
 * {@link SinkQueue.Owner} methods. The close reason is decided in {@link #close} (a sink failing on
 * a line queued before may still change it) and reported once the last line is through. Its phase:
 *
 * <pre>
 *   HANDSHAKING ──(each stage's handshake through: connectionOpened)──▶ OPEN ──(close)──▶ CLOSED
 *        │                                                   (orderly) │           ▲
 *        │                         CLOSING: reads nothing, the sink's ◀┘           │
 *        │                         last lines and every send written ──────────────┘
 *        └──(failed, refused, timed out, ended or drained first)──▶ ABORTED (reported elsewhere)
 * </pre>
 *
 * and, until it closes, whether it reads: {@code ON}, {@code PAUSED} while the sink executor's
 * budget is spent (its clock stands still), {@code TLS_TASKS} while the TLS engine's tasks run
 * elsewhere, and, closing with its output shut, {@code DISCARDING} what its peer still sends until
 * the peer's end (the lingering close). Pausing is apart from the phase: a connection may pause
 * inside its PROXY header. While the server drains, {@link #drainStep} ends it once it is quiet
 * with no partial input, or cuts it at the deadline; a line its peer did not end is never delivered
 * then.
 */
final class Connection implements Stage.Context, SinkQueue.Owner {
  /** What a connection needs from its I/O loop, handed to it once: its one door to the loop. */
  interface Loop {
    Settings settings();

    Services services();

    /** The loop's counters, written by its thread. */
    Counters counters();

    /** What to split a read from: the read buffer, or a heap copy of it for a String sink. */
    ByteBuffer splittable(ByteBuffer read);

    /** Where the loop's TLS stages decrypt to (with TLS only). */
    ByteBuffer plaintextBuffer();

    /** Where the loop's connections pack lines for the sink executor (with one only). */
    SinkQueue.Chunk chunk();

    /** True once {@code close()} gave up on the loop: nothing more is delivered or reported. */
    BooleanSupplier abandoned();

    /** What the loop's sink calls share: its settings, counters, sink and {@link #abandoned}. */
    SinkCall.Scope sinkScope();

    /** True once the drain's deadline has passed: nothing more is read. */
    boolean isPastDrainDeadline();

    /** False once the loop has ended. */
    boolean isRunning();

    /** Runs {@code task} on the loop's thread; from any thread. */
    void execute(Runnable task);

    /** True on the loop's own thread. */
    boolean inLoop();

    /** Flushes the connection's sends once the loop is through its ready sockets; loop thread. */
    void flushSoon(Connection connection);

    /**
     * The connection is closing: close it as {@link Connection#closingExpired} once {@code
     * deadlineNanos} passed; a later call moves the deadline.
     */
    void closing(Connection connection, long deadlineNanos);

    /** The connection paused reading: resume it when the budget is released. */
    void paused(Connection connection);

    /** The executor refused the connection's queue: hand it over again shortly. */
    void retryLater(Connection connection);

    /** The connection closed: the loop forgets it. */
    void connectionClosed(Connection connection);
  }

  enum Phase {
    /** In its PROXY header or TLS handshake: not yet opened for the listener and the sink. */
    HANDSHAKING,
    /** Opened: lines flow. */
    OPEN,
    /** Closed in an orderly way: reads nothing, waits for the sink's last lines and its sends. */
    CLOSING,
    /** Closed after it opened: {@code connectionClosed} follows its last line. */
    CLOSED,
    /** Closed before it opened: refused, failed or ended; never reported as closed. */
    ABORTED
  }

  enum Reading {
    ON,
    /** The sink executor's budget is spent: the peer's sends fill the TCP window and block. */
    PAUSED,
    /** The TLS engine's delegated tasks run on the TLS threads. */
    TLS_TASKS,
    /**
     * Closing, everything written and the output shut: what the peer still sends is read and
     * dropped until its end of stream, so the socket's close does not reset the replies away.
     */
    DISCARDING
  }

  /**
   * The close reasons that leave a connection time to write what it was sent (a sink's {@link
   * Error} too: its replies before it were queued); made with the class, as a switch's lookup class
   * would be loaded at the first close, which may find no descriptor.
   */
  private static final Set<CloseReason> ORDERLY =
      EnumSet.of(
          CloseReason.PEER_EOF,
          CloseReason.IDLE_TIMEOUT,
          CloseReason.LINE_TIMEOUT,
          CloseReason.RESTART_LIMIT,
          CloseReason.SERVER_CLOSE,
          CloseReason.APPLICATION_CLOSE,
          CloseReason.SERVER_ERROR);

  /** Reads per readiness event before the I/O thread turns to its other connections. */
  private static final int MAX_READS_PER_EVENT = 16;

  private final Transport transport;
  private final Peer peer;
  private final Loop loop;
  private final ConnectionClock clock;
  private final @Nullable SinkQueue queue;
  private final Stage head;
  private Phase phase = Phase.HANDSHAKING;
  private Reading reading = Reading.ON;
  int slot = -1; // the loop's index of this connection while registered
  int closingSlot = -1; // the loop's index of this connection in its closing list
  private volatile @Nullable Outbox outbox; // made under the lock at the first send
  private @Nullable CloseReason closing; // the reason decided by close; guarded by this
  private boolean sendsSealed; // guarded by this: no send is taken any more
  private boolean sinkFinished; // guarded by this: the sink queue's last line is through
  private boolean socketClosed; // guarded by this

  Connection(Transport transport, Peer peer, Loop loop) {
    this.transport = transport;
    this.peer = peer;
    this.loop = loop;
    Settings settings = loop.settings();
    this.clock = new ConnectionClock(settings.timeouts(), System.nanoTime());
    Counters counters = loop.counters();
    Executor executor = settings.sink().executor();
    this.queue =
        executor == null
            ? null
            : new SinkQueue(
                this, peer, counters, loop.services().budget(), settings, executor, loop.chunk());
    LineStage lines = new LineStage(this, loop.sinkScope(), queue);
    this.head = Pipeline.assemble(loop, this, lines);
  }

  /** Starts the connection on its I/O thread, once registered: opens it if no stage handshakes. */
  void open() {
    if (queue != null) {
      loop.services().budget().queueStarted(queue);
    }
    if (head.handshake() == null) {
      handshakeDone();
    } else {
      clock.handshakeStarted(System.nanoTime());
    }
  }

  @Override
  public Peer peer() {
    return peer;
  }

  Transport transport() {
    return transport;
  }

  @Override
  public ConnectionClock clock() {
    return clock;
  }

  /** True once the connection closed or began closing: nothing more is read or handed on. */
  @Override
  public boolean isClosed() {
    return phase != Phase.HANDSHAKING && phase != Phase.OPEN;
  }

  /** True once the socket is closed. */
  private boolean isGone() {
    return phase == Phase.CLOSED || phase == Phase.ABORTED;
  }

  @Override
  public void handshakeDone() {
    if (phase != Phase.HANDSHAKING || head.handshake() != null) {
      return;
    }
    phase = Phase.OPEN;
    clock.handshakesDone();
    peer.attach(this);
    loop.services().registry().add(peer);
    LineServerListener listener = loop.settings().listener();
    Events.report(() -> listener.connectionOpened(peer));
  }

  /**
   * Reads what the socket has, through the pipeline; at EOF, ends the stream. With a sink executor,
   * pauses before a read once the budget is spent, so the budget is passed by at most one read per
   * I/O thread. Returns whether the socket was found empty.
   */
  boolean onReadable(ByteBuffer readBuffer) {
    if (reading == Reading.DISCARDING) {
      return discard(readBuffer);
    }
    for (int reads = 0; reads < MAX_READS_PER_EVENT && !isClosed(); reads++) {
      if (reading == Reading.TLS_TASKS) {
        return false; // the TLS stage holds what it has until the engine's tasks ran
      }
      if (queue != null && loop.services().budget().isSpent()) {
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
        n = transport.read(readBuffer);
      } catch (IOException e) {
        peer.reports().log.log(Level.DEBUG, () -> "read failed on " + peer + ": " + e);
        close(
            loop.abandoned().getAsBoolean()
                ? CloseReason.SHUTDOWN_TIMEOUT
                : CloseReason.PEER_RESET);
        return false;
      }
      if (n < 0) {
        finish(CloseReason.PEER_EOF);
        return false;
      }
      if (n == 0) {
        return true;
      }
      clock.read(System.nanoTime());
      loop.counters().add(Counter.BYTES, n);
      readBuffer.flip();
      head.read(loop.splittable(readBuffer));
      if (reading == Reading.TLS_TASKS || (n < readBuffer.capacity() && !inProxyHeader())) {
        return false;
      }
    }
    return false;
  }

  /** A short read that left the PROXY header incomplete reads on at once: the rest often waits. */
  private boolean inProxyHeader() {
    return head instanceof ProxyStage proxy && proxy.inHeader();
  }

  /** Writes at most this much at a time before the I/O thread turns to its other connections. */
  private static final int MAX_WRITE_PER_FLUSH = 1024 * 1024;

  /**
   * Writes what the pipeline has for the peer: the stages' own bytes (TLS records) and the sends,
   * through them. What the socket does not take waits for OP_WRITE. While closing, closes once all
   * is written.
   */
  @Override
  public boolean flush() {
    boolean done;
    try {
      done = write();
    } catch (IOException e) {
      peer.reports().log.log(Level.DEBUG, () -> "write failed on " + peer + ": " + e);
      // While closing, the peer that left is the end of the wait: the reason stands.
      CloseReason reason = phase == Phase.CLOSING ? closingReason() : CloseReason.PEER_RESET;
      terminate(reason);
      return false;
    }
    if (done && phase == Phase.CLOSING) {
      closeIfFlushed();
    }
    return !isGone();
  }

  /** True if the pipeline has nothing left that it can write now; false if the socket is full. */
  private boolean write() throws IOException {
    int budget = MAX_WRITE_PER_FLUSH;
    while (true) {
      ByteBuffer out = head.outbound();
      if (isGone()) {
        return true; // a stage failed making its bytes
      }
      if (!out.hasRemaining()) {
        transport.writeInterest(false);
        return true;
      }
      int n = transport.write(out);
      loop.counters().add(Counter.BYTES_SENT, n);
      if (out.hasRemaining()) {
        transport.writeInterest(true);
        return false;
      }
      budget -= n;
      if (budget <= 0) {
        loop.flushSoon(this); // the rest after the loop's other connections
        return false;
      }
    }
  }

  /** The loop's flush: the socket can take bytes again, or sends wait to be written. */
  void flushSends() {
    if (!isGone()) {
      flush();
    }
  }

  /** What the application sent, next to write, for the last stage's {@link Stage#outbound}. */
  @Override
  public ByteBuffer sends() {
    Outbox box = outbox;
    return box == null ? Stage.NO_BYTES : box.next();
  }

  // ---- Sending: from any thread ----

  /** Queues a copy of {@code length} bytes of {@code bytes} from index {@code offset}. */
  SendResult send(ByteBuffer bytes, int offset, int length) {
    checkLength(length);
    Outbox box = outbox();
    return box == null ? SendResult.CLOSED : sent(box, box.append(bytes, offset, length));
  }

  /** Queues {@code text} in the server's charset, then with {@code line} the delimiter. */
  SendResult send(CharSequence text, boolean line) {
    Settings.Framing framing = loop.settings().framing();
    Charset charset = framing.charset();
    if (isAsciiCompatible(charset) && isAscii(text)) {
      checkLength(text.length() + (line ? 1L : 0L));
      Outbox box = outbox();
      return box == null
          ? SendResult.CLOSED
          : sent(box, box.appendAscii(text, framing.delimiter(), line));
    }
    ByteBuffer encoded = encode(text, charset, line ? 1 : 0);
    if (line) {
      encoded.put(framing.delimiter());
    }
    encoded.flip();
    return send(encoded, 0, encoded.limit());
  }

  private static boolean isAsciiCompatible(Charset charset) {
    return charset.equals(StandardCharsets.UTF_8)
        || charset.equals(StandardCharsets.US_ASCII)
        || charset.equals(StandardCharsets.ISO_8859_1);
  }

  private static boolean isAscii(CharSequence text) {
    for (int i = 0, n = text.length(); i < n; i++) {
      if (text.charAt(i) >= 0x80) {
        return false;
      }
    }
    return true;
  }

  /** {@code text} encoded strictly, with room for {@code extra} bytes more; in write mode. */
  private ByteBuffer encode(CharSequence text, Charset charset, int extra) {
    int max = loop.settings().sending().maxQueueBytes();
    CharsetEncoder encoder =
        charset
            .newEncoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    long worst = (long) Math.ceil(text.length() * (double) encoder.maxBytesPerChar()) + extra;
    ByteBuffer out = ByteBuffer.allocate((int) Math.min(worst, max + 1L));
    CharBuffer in = CharBuffer.wrap(text);
    CoderResult result = encoder.encode(in, out, true);
    if (!result.isError() && !result.isOverflow()) {
      result = encoder.flush(out);
    }
    if (result.isError()) {
      throw new IllegalArgumentException(
          "send: "
              + (result.isMalformed() ? "malformed text (an unpaired surrogate?)" : "a character")
              + " at index "
              + in.position()
              + " cannot be encoded in "
              + charset);
    }
    if (result.isOverflow() || out.position() + extra > max) {
      throw new IllegalArgumentException(
          "send: more than "
              + max
              + " bytes encoded (expected: 0.."
              + max
              + ", maxSendQueueBytes)");
    }
    return out;
  }

  private void checkLength(long length) {
    int max = loop.settings().sending().maxQueueBytes();
    if (length > max) {
      throw new IllegalArgumentException(
          "send: " + length + " bytes (expected: 0.." + max + ", maxSendQueueBytes)");
    }
  }

  /** The send queue, made at the first send; null once sends are sealed. */
  private @Nullable Outbox outbox() {
    Outbox box = outbox;
    if (box != null) {
      return box; // it refuses sends itself once sealed
    }
    synchronized (this) {
      if (sendsSealed) {
        return null;
      }
      box = outbox;
      if (box == null) {
        outbox = box = new Outbox(loop.settings().sending().maxQueueBytes());
      }
      return box;
    }
  }

  private SendResult sent(Outbox box, int outcome) {
    return switch (outcome) {
      case Outbox.QUEUED -> SendResult.QUEUED;
      case Outbox.QUEUED_WAKE -> {
        if (loop.inLoop()) {
          loop.flushSoon(this);
        } else {
          loop.execute(this::flushSends);
        }
        yield SendResult.QUEUED;
      }
      case Outbox.FULL_FIRST -> {
        boolean closes = loop.settings().sending().whenFull() == SendQueueFull.CLOSE;
        if (closes) {
          box.seal(); // later sends are refused as to a closed connection
        }
        int queued = box.size();
        loop.execute(() -> queueFull(queued, closes));
        loop.counters().addShared(Counter.SENDS_REFUSED, 1);
        yield SendResult.FULL;
      }
      case Outbox.FULL -> {
        loop.counters().addShared(Counter.SENDS_REFUSED, 1);
        yield SendResult.FULL;
      }
      default -> SendResult.CLOSED;
    };
  }

  /**
   * On the I/O thread, after a send found the queue full: reports, and closes if the policy says.
   */
  private void queueFull(int queued, boolean closes) {
    LineServerListener listener = loop.settings().listener();
    Events.report(() -> listener.sendQueueFull(peer, queued));
    if (closes && !isGone()) {
      terminate(CloseReason.SLOW_READER);
    }
  }

  /**
   * {@code ConnectionInfo.close()} and {@code closeNow()}: from any thread. The lookup by id
   * forgets the connection at once, and after {@code closeNow()} no send is taken; the rest happens
   * on the I/O thread.
   */
  void closeByApplication(boolean now) {
    loop.services().registry().remove(peer);
    if (now) {
      sealSends();
    }
    if (loop.inLoop()) {
      closeByApplicationHere(now);
    } else {
      loop.execute(() -> closeByApplicationHere(now));
    }
  }

  private void closeByApplicationHere(boolean now) {
    if (!now) {
      close(CloseReason.APPLICATION_CLOSE);
    } else if (!isGone()) {
      terminate(CloseReason.APPLICATION_CLOSE);
    }
  }

  /** For the closer, giving up on this connection's loop: no send is taken any more. */
  void sealSends() {
    Outbox box;
    synchronized (this) {
      sendsSealed = true;
      box = outbox;
    }
    if (box != null) {
      box.seal();
    }
  }

  @Override
  public void runTasks(Runnable tasks, Consumer<@Nullable Throwable> done) {
    setReading(Reading.TLS_TASKS);
    requireNonNull(loop.services().tlsTasks())
        .run(
            tasks,
            loop::execute,
            failure -> {
              if (isGone()) {
                return;
              }
              if (reading != Reading.DISCARDING) {
                setReading(Reading.ON);
              }
              done.accept(failure);
            });
  }

  private void setReading(Reading next) {
    reading = next;
    if (!isClosed()) {
      transport.readInterest(next == Reading.ON);
    }
  }

  /** Stops reading until the sink catches up. */
  private void pause() {
    if (isClosed() || reading == Reading.PAUSED) {
      return;
    }
    setReading(Reading.PAUSED);
    clock.paused(System.nanoTime());
    loop.counters().add(Counter.READS_PAUSED, 1);
    loop.paused(this);
  }

  /** Reads again after a pause; from the I/O thread. */
  void resume() {
    if (reading != Reading.PAUSED) {
      return;
    }
    reading = Reading.ON;
    if (!isClosed()) {
      transport.readInterest(true);
      clock.resumed(System.nanoTime());
    }
  }

  /**
   * Closes the connection if a deadline passed: its handshake's, the idle timeout or the line
   * timeout (a partial line is dropped: its sender stopped mid-line). Reads first what may already
   * wait in the socket, so that an I/O thread running behind never times out a peer whose bytes
   * have arrived. While paused, the server stopped reading, not the peer sending: no clock runs.
   */
  void checkTimeouts(long now, ByteBuffer readBuffer) {
    if (reading == Reading.PAUSED || isClosed()) {
      return;
    }
    CloseReason expired = clock.expired(now);
    if (expired == null) {
      return;
    }
    onReadable(readBuffer);
    if (isClosed() || reading == Reading.PAUSED) {
      return;
    }
    if (expired == CloseReason.HANDSHAKE_FAILED) {
      handshakeExpired(now);
      return;
    }
    expired = clock.expired(now);
    if (expired != null) {
      close(expired);
    }
  }

  /**
   * The handshake deadline passed: a stage that waited to tell the stream's kind decides now (an
   * optional PROXY header: plain), and a next handshake begun so has its own time; else it failed.
   */
  private void handshakeExpired(long now) {
    String late = head.handshake();
    if (late == null) {
      return;
    }
    head.quiet();
    if (isClosed()) {
      return;
    }
    String still = head.handshake();
    if (still == null) {
      return;
    }
    if (!still.equals(late)) {
      clock.handshakeStarted(now);
      return;
    }
    handshakeFailed(
        new TimeoutException(
            "no complete " + late + " within " + Duration.ofNanos(clock.handshakeNanos())));
  }

  /**
   * One step of the server's drain, on each drain tick: past the deadline, closes with {@code
   * SHUTDOWN_TIMEOUT}, dropping a partial line; else, unless reading is paused for the sink, reads
   * what the socket holds, and closes with {@code SERVER_CLOSE} once nothing arrived for {@link
   * IoLoop#QUIET_NANOS} since the drain began, the socket is empty and no partial line or record
   * waits for its end. A connection still in its handshake has sent no line: quiet, it ends like an
   * idle one ({@link #finish}, which reports a begun handshake as failed). So a connection the
   * server was too busy to read, or held back, is not taken for quiet, and a line is delivered only
   * when its peer ended it.
   */
  void drainStep(long now, long drainStart, boolean late, ByteBuffer readBuffer) {
    if (isGone()) {
      return;
    }
    if (late && reading == Reading.DISCARDING) {
      terminate(closingReason()); // all was written: it only waited for its peer's end
      return;
    }
    if (late) {
      close(CloseReason.SHUTDOWN_TIMEOUT);
      return;
    }
    if (phase == Phase.CLOSING) {
      return; // writing what it was sent: reads nothing
    }
    if (reading == Reading.PAUSED) {
      return;
    }
    // While the TLS engine's tasks run, the server works, not the peer: nothing is read.
    boolean empty = reading == Reading.TLS_TASKS || onReadable(readBuffer);
    if (isClosed() || !empty || !clock.quietSince(drainStart, now, IoLoop.QUIET_NANOS)) {
      return;
    }
    head.quiet(); // optional PROXY mode, quiet with no header begun: its bytes were plain lines
    if (isClosed()) {
      return;
    }
    if (phase == Phase.HANDSHAKING) {
      finish(CloseReason.SERVER_CLOSE); // no line came yet
    } else if (!head.holdsPartialInput()) {
      close(CloseReason.SERVER_CLOSE);
    }
  }

  /** Ends the peer's stream through the pipeline (the tail is delivered), then closes. */
  void finish(CloseReason reason) {
    if (isClosed()) {
      return;
    }
    head.endOfStream();
    close(reason);
  }

  @Override
  public void handshakeFailed(Exception error) {
    close(CloseReason.HANDSHAKE_FAILED);
    LineServerListener listener = loop.settings().listener();
    Events.report(() -> listener.handshakeFailed(peer, error));
  }

  @Override
  public void refuse(SocketAddress client, CloseReason reason, RefusalReason refusal) {
    close(reason);
    LineServerListener listener = loop.settings().listener();
    Events.report(() -> listener.connectionRefused(client, refusal));
  }

  /**
   * Closes the connection: no line is read after this, and a partial line is dropped (counted).
   * Idempotent. An opened connection that closes in an orderly way ({@link #isOrderly}) with
   * something still to send, or with a sink executor, is {@code CLOSING} first: it writes its
   * sends, and the sink's replies to the lines already queued for it, then closes the socket
   * ({@link #closeIfFlushed}); a failure while it closes ends the wait. Lines already queued for a
   * sink executor are still delivered (but after a restart limit or a sink's error), and the closed
   * event follows them.
   */
  @Override
  public void close(CloseReason reason) {
    if (phase == Phase.CLOSING) {
      if (!isOrderly(reason)) {
        terminate(reason);
      }
      return;
    }
    if (isClosed()) {
      return;
    }
    // A connection that ever sent closes through CLOSING: its lingering close keeps its replies.
    if (phase == Phase.OPEN && isOrderly(reason) && (queue != null || outbox != null)) {
      startClosing(reason);
    } else {
      terminate(reason);
    }
  }

  /** The reasons that leave the connection time to write what it was sent. */
  private static boolean isOrderly(CloseReason reason) {
    return ORDERLY.contains(reason);
  }

  private boolean hasUnsent() {
    Outbox box = outbox;
    return box != null && !box.isEmpty();
  }

  private void startClosing(CloseReason reason) {
    if (head.holdsPartialInput()) {
      loop.counters().addShared(Counter.PARTIAL_LINES_DROPPED, 1);
    }
    phase = Phase.CLOSING;
    synchronized (this) {
      closing = reason;
      sinkFinished = queue == null;
    }
    transport.readInterest(false);
    loop.services().registry().remove(peer); // no longer open for a lookup; sends still go
    loop.closing(this, System.nanoTime() + loop.settings().timeouts().shutdownNanos());
    SinkQueue sinkQueue = queue;
    if (sinkQueue != null) {
      sinkQueue.end(reason); // its last line then calls sinkDone, which comes back here
    }
    flush(); // once all is written, and the sink's last line through: closeIfFlushed
  }

  /**
   * While closing, once the sink's last line is through: takes no more sends and flushes the last
   * of them (the flush comes back here once it wrote all it could), then, once everything is
   * written, ends the output.
   */
  private void closeIfFlushed() {
    if (phase != Phase.CLOSING) {
      return;
    }
    boolean sealed;
    synchronized (this) {
      if (!sinkFinished) {
        return;
      }
      sealed = sendsSealed;
    }
    if (!sealed) {
      sealSends();
      flush(); // a send may have come since the last write
    } else if (!hasUnsent()) {
      endOutput();
    } // else the pipeline cannot take the rest now (TLS tasks out): a flush comes back here
  }

  /**
   * Everything is written. A peer that may still send (any close but its own EOF) to a connection
   * that sent it something gets a lingering close: over TLS our close_notify, then the output shut
   * (FIN after the last byte), then its input read and dropped until its EOF, within the closing's
   * deadline. Closing the socket before would reset the connection at the peer's next byte (unread
   * input, a TLS key update or close_notify), and the reset makes the peer's kernel discard the
   * replies it has not read yet. Otherwise the socket closes now.
   */
  private void endOutput() {
    CloseReason reason = closingReason();
    if (reason == CloseReason.PEER_EOF || outbox == null) {
      terminate(reason);
      return;
    }
    head.closed(); // TLS: our close_notify, which terminate would send
    try {
      if (!write()) {
        return; // the socket is full: the flush at OP_WRITE comes back here
      }
      transport.shutdownOutput();
    } catch (IOException e) {
      peer.reports().log.log(Level.DEBUG, () -> "shutting the output of " + peer + " failed: " + e);
      terminate(reason);
      return;
    }
    reading = Reading.DISCARDING; // until the peer's end, or the closing's deadline
    transport.readInterest(true);
  }

  /** Reads and drops what the peer still sends; closes at its EOF. Returns whether it was empty. */
  private boolean discard(ByteBuffer readBuffer) {
    for (int reads = 0; reads < MAX_READS_PER_EVENT; reads++) {
      readBuffer.clear();
      int n;
      try {
        n = transport.read(readBuffer);
      } catch (IOException e) {
        n = -1; // reset: nothing more to wait for
      }
      if (n < 0) {
        terminate(closingReason());
        return false;
      }
      if (n == 0) {
        return true;
      }
      loop.counters().add(Counter.BYTES, n);
    }
    return false;
  }

  /**
   * The closing connection's time ({@code shutdownTimeout}) is up: what it has not written is
   * dropped, and if that is anything, its peer did not read: a slow reader.
   */
  void closingExpired() {
    if (phase == Phase.CLOSING) {
      boolean unread =
          reading != Reading.DISCARDING && (hasUnsent() || head.outbound().hasRemaining());
      terminate(unread ? CloseReason.SLOW_READER : closingReason());
    }
  }

  private synchronized CloseReason closingReason() {
    return requireNonNull(closing);
  }

  /** Closes the socket now, whatever the phase: for the loop as it ends. */
  void closeAtOnce(CloseReason reason) {
    if (!isGone()) {
      terminate(reason);
    }
  }

  /**
   * Closes the socket now: what was not written is dropped (counted); past the drain's deadline,
   * after one last write of what the socket takes at once.
   */
  private void terminate(CloseReason reason) {
    boolean wasClosing = phase == Phase.CLOSING;
    boolean wasOpen = phase == Phase.OPEN || wasClosing;
    if (wasOpen && reason == CloseReason.SHUTDOWN_TIMEOUT && hasUnsent()) {
      try {
        write();
      } catch (IOException e) {
        peer.reports().log.log(Level.DEBUG, () -> "last write to " + peer + " failed: " + e);
      }
    }
    if (phase == Phase.OPEN && head.holdsPartialInput()) {
      loop.counters().addShared(Counter.PARTIAL_LINES_DROPPED, 1);
    }
    phase = wasOpen ? Phase.CLOSED : Phase.ABORTED;
    Outbox box;
    boolean sinkDoneAlready;
    synchronized (this) {
      closing = reason;
      sendsSealed = true;
      socketClosed = true;
      box = outbox;
      sinkDoneAlready = sinkFinished && queue != null;
    }
    if (box != null) {
      int dropped = box.drop();
      if (dropped > 0) {
        loop.counters().add(Counter.SEND_BYTES_DROPPED, dropped);
      }
    }
    if (wasOpen) {
      peer.detach();
      loop.services().registry().remove(peer);
    }
    head.closed();
    ByteBuffer last = head.outbound(); // TLS's close_notify
    if (last.hasRemaining()) {
      try {
        transport.write(last);
      } catch (IOException e) {
        peer.reports().log.log(Level.DEBUG, () -> "close_notify to " + peer + " failed: " + e);
      }
    }
    transport.close();
    loop.services().admission().release(peer);
    loop.connectionClosed(this);
    SinkQueue sinkQueue = queue;
    if (sinkQueue == null) {
      loop.counters().closed(reason);
      reportClosed(reason, false);
    } else if (!wasClosing) {
      sinkQueue.end(reason); // counted and reported once its last line is through: sinkDone
    } else if (sinkDoneAlready) {
      closedAfterSink(sinkQueue, reason);
    }
  }

  /**
   * From the queue's last task, or the thread that gave it up: counts and reports the close once
   * the socket is closed too; while the connection is closing, has its I/O thread go on.
   */
  @Override
  public void sinkDone(@Nullable CloseReason failure) {
    SinkQueue sinkQueue = requireNonNull(queue);
    CloseReason reason;
    boolean closed;
    synchronized (this) {
      if (failure != null) {
        closing = failure;
      }
      sinkFinished = true;
      closed = socketClosed;
      reason = closing;
    }
    if (closed) {
      closedAfterSink(sinkQueue, requireNonNull(reason));
    } else {
      loop.execute(this::closeIfFlushed);
    }
  }

  private void closedAfterSink(SinkQueue sinkQueue, CloseReason reason) {
    loop.counters().closed(reason);
    reportClosed(reason, sinkQueue.isGivenUp());
    loop.services().budget().queueDone(sinkQueue);
  }

  /** Tells the listener, if the connection was opened and {@code close()} did not give up on it. */
  private void reportClosed(CloseReason reason, boolean givenUp) {
    if (phase == Phase.CLOSED && !givenUp && !loop.abandoned().getAsBoolean()) {
      LineServerListener listener = loop.settings().listener();
      Events.report(() -> listener.connectionClosed(peer, reason));
    }
  }

  /** From a sink task: closes the connection on its I/O thread. */
  @Override
  public void closeFromSink(CloseReason reason) {
    loop.execute(() -> close(reason));
  }

  /**
   * The sink executor refused this connection's lines (from any thread). They stay queued, within
   * the budget, and the loop tries again shortly; once the loop has ended, {@code close()} does,
   * while it waits for the queues.
   */
  @Override
  public void sinkRejected(Throwable error) {
    if (loop.isRunning()) {
      loop.execute(() -> onSinkRejected(error));
    }
  }

  private void onSinkRejected(Throwable error) {
    Events.sinkRejected(
        peer, () -> "the sink executor refused " + peer + "'s lines (" + error + "); retrying");
    if (requireNonNull(queue).retryDue()) {
      loop.retryLater(this);
    }
  }

  /**
   * The sink executor is shut down and will never take this connection's lines: they were dropped
   * (counted); the connection is closed with {@code SERVER_ERROR}. From any thread.
   */
  @Override
  public void executorGone(long dropped) {
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
    requireNonNull(queue).retry();
  }

  /** Past the drain's deadline, a queue the executor keeps refusing is given up: its lines drop. */
  void abandonSink() {
    requireNonNull(queue).giveUpRetrying();
  }
}
