package dev.lineserver.internal;

import static java.util.Objects.requireNonNull;

import dev.lineserver.CloseReason;
import dev.lineserver.LineServerListener;
import dev.lineserver.RefusalReason;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * One accepted socket, the unit that fails and restarts alone: its {@link Transport}, its pipeline
 * of {@link Stage}s (assembled by {@link Pipeline}), its {@link ConnectionClock}, and, with a sink
 * executor, its {@link SinkQueue}. Its I/O thread alone calls it, but for the {@link
 * SinkQueue.Owner} methods. The close reason is decided in {@link #close} (a sink failing on a line
 * queued before may still change it) and reported once the last line is through. Its phase:
 *
 * <pre>
 *   HANDSHAKING ──(each stage's handshake through: connectionOpened)──▶ OPEN ──(close)──▶ CLOSED
 *        └──(failed, refused, timed out, ended or drained first)──▶ ABORTED (reported elsewhere)
 * </pre>
 *
 * and, until it closes, whether it reads: {@code ON}, {@code PAUSED} while the sink executor's
 * budget is spent (its clock stands still), {@code TLS_TASKS} while the TLS engine's tasks run
 * elsewhere. Pausing is apart from the phase: a connection may pause inside its PROXY header. While
 * the server drains, {@link #drainStep} ends it once it is quiet with no partial input, or cuts it
 * at the deadline; a line its peer did not end is never delivered then.
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
    TLS_TASKS
  }

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

  @Override
  public boolean isClosed() {
    return phase == Phase.CLOSED || phase == Phase.ABORTED;
  }

  @Override
  public void handshakeDone() {
    if (phase != Phase.HANDSHAKING || head.handshake() != null) {
      return;
    }
    phase = Phase.OPEN;
    clock.handshakesDone();
    LineServerListener listener = loop.settings().listener();
    Events.report(() -> listener.connectionOpened(peer));
  }

  /**
   * Reads what the socket has, through the pipeline; at EOF, ends the stream. With a sink executor,
   * pauses before a read once the budget is spent, so the budget is passed by at most one read per
   * I/O thread. Returns whether the socket was found empty.
   */
  boolean onReadable(ByteBuffer readBuffer) {
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
        Events.LOGGER.log(Level.DEBUG, () -> "read failed on " + peer + ": " + e);
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

  /**
   * Writes what the pipeline has for the peer; what the socket does not take waits for OP_WRITE.
   */
  @Override
  public boolean flush() {
    ByteBuffer out = head.outbound();
    try {
      while (out.hasRemaining()) {
        if (transport.write(out) == 0) {
          if (!isClosed()) {
            transport.writeInterest(true);
          }
          return true;
        }
      }
    } catch (IOException e) {
      Events.LOGGER.log(Level.DEBUG, () -> "write failed on " + peer + ": " + e);
      close(CloseReason.PEER_RESET);
      return false;
    }
    if (!isClosed()) {
      transport.writeInterest(false);
    }
    return true;
  }

  /** The socket can take bytes again. */
  void onWritable() {
    if (!isClosed()) {
      flush();
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
              if (isClosed()) {
                return;
              }
              setReading(Reading.ON);
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
    if (reading == Reading.PAUSED) {
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
    if (isClosed()) {
      return;
    }
    if (late) {
      close(CloseReason.SHUTDOWN_TIMEOUT);
      return;
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
   * Closes the socket; no line is read after this, and a partial line is dropped (counted).
   * Idempotent. Lines already queued for a sink on an executor are still delivered (but after a
   * restart limit or a sink's error), and the closed event follows them.
   */
  @Override
  public void close(CloseReason reason) {
    if (isClosed()) {
      return;
    }
    boolean wasOpen = phase == Phase.OPEN;
    phase = wasOpen ? Phase.CLOSED : Phase.ABORTED;
    if (wasOpen && head.holdsPartialInput()) {
      loop.counters().addShared(Counter.PARTIAL_LINES_DROPPED, 1);
    }
    head.closed();
    ByteBuffer last = head.outbound(); // TLS's close_notify
    if (last.hasRemaining()) {
      try {
        transport.write(last);
      } catch (IOException e) {
        Events.LOGGER.log(Level.DEBUG, () -> "close_notify to " + peer + " failed: " + e);
      }
    }
    transport.close();
    loop.services().admission().release(peer);
    loop.connectionClosed(this);
    SinkQueue sinkQueue = queue;
    if (sinkQueue == null) {
      loop.counters().closed(reason);
      reportClosed(reason, false);
    } else {
      sinkQueue.end(reason); // counted and reported once its last line is through: sinkDone
    }
  }

  /** From the queue's last task, or the thread that gave it up. */
  @Override
  public void sinkDone(CloseReason reason) {
    SinkQueue sinkQueue = requireNonNull(queue);
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
