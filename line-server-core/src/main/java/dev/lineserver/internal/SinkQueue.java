package dev.lineserver.internal;

import dev.lineserver.CloseReason;
import java.nio.ByteBuffer;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * One connection's lines on their way to a sink that runs on the user's executor. The I/O thread
 * {@link #offer}s lines into its loop's {@link Chunk} and {@link #seal}s them, once per read, into
 * one array queued here; at most one task drains the queue at a time, in order, so the sink is
 * never called concurrently for the connection. Each chunk's {@link #cost} counts against the
 * server's {@link Budget} until its last line is through. The task owns {@code sinkCall}; the
 * {@code scheduled} flag hands it from one task to the next, and once {@code discard} is set no
 * sink call starts again.
 */
final class SinkQueue {
  /** Heap a queued chunk costs beyond its bytes: the array's header and the queue's node. */
  static final int CHUNK_OVERHEAD = 64;

  /** Chunks one task delivers before it yields the executor thread to other connections. */
  private static final int CHUNKS_PER_TASK = 4;

  /**
   * Lines of one read, of one connection at a time, packed for a queue: a line count, then each
   * line as its length and its bytes, all ints big-endian. Owned by one I/O loop.
   */
  static final class Chunk {
    static final int CAPACITY = 64 * 1024;

    private final ByteBuffer bytes = ByteBuffer.allocate(CAPACITY).position(Integer.BYTES);
    private int lines;
    private @Nullable SinkQueue owner;
  }

  /**
   * What the queue tells its connection, from the executor's threads or the I/O thread: each method
   * is safe from any thread.
   */
  interface Owner {
    /** The sink failed past the restart intensity, or threw an error: close with {@code reason}. */
    void closeFromSink(CloseReason reason);

    /** The executor refused the queue's task: the loop should {@link #retry} shortly. */
    void sinkRejected(Throwable error);

    /** The executor is shut down: the queue dropped {@code dropped} lines and ends. */
    void executorGone(long dropped);

    /**
     * The last queued line went through (or was dropped) after {@link #end}: nothing more reaches
     * the sink. {@code failure} is the sink's, if it failed after the end (a restart limit, an
     * error), which the connection is then closed with instead.
     */
    void sinkDone(@Nullable CloseReason failure);
  }

  private final Owner connection;
  private final Executor executor;
  private final Budget budget;
  private final Reports reports;
  private final Counters counters;
  private final Chunk chunk;
  private final Queue<byte[]> chunks = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private final SinkCall sinkCall;
  private volatile boolean ended;
  private volatile boolean discard;
  private volatile boolean givenUp;
  private volatile boolean refused;
  private volatile @Nullable CloseReason failure;
  private boolean retryDue; // the I/O thread's, then close()'s once the loops ended
  private volatile @Nullable Thread runner;

  SinkQueue(
      Owner connection,
      Peer peer,
      Counters counters,
      Budget budget,
      Settings settings,
      Executor executor,
      Chunk chunk) {
    this.connection = connection;
    this.executor = executor;
    this.budget = budget;
    this.reports = peer.reports();
    this.counters = counters;
    this.chunk = chunk;
    this.sinkCall = new SinkCall(peer, new SinkCall.Scope(settings, counters, this::isGivenUp));
  }

  /** What a chunk of {@code length} bytes holds the heap to while queued. */
  static long cost(int length) {
    return (long) length + CHUNK_OVERHEAD;
  }

  /** Adds a copy of a line, at absolute indexes of {@code bytes}; from the I/O thread. */
  void offer(ByteBuffer bytes, int start, int length) {
    SinkQueue owner = chunk.owner;
    if (owner != this) {
      if (owner != null) {
        owner.seal(); // defensive: each connection seals at the end of its read
      }
      chunk.owner = this;
    }
    ByteBuffer packed = chunk.bytes;
    if (packed.remaining() < Integer.BYTES + length) {
      seal();
      if (packed.remaining() < Integer.BYTES + length) {
        byte[] alone = new byte[2 * Integer.BYTES + length]; // a line longer than a chunk
        ByteBuffer.wrap(alone)
            .putInt(1)
            .putInt(length)
            .put(Integer.BYTES * 2, bytes, start, length);
        enqueue(alone);
        return;
      }
    }
    packed.putInt(length).put(packed.position(), bytes, start, length);
    packed.position(packed.position() + length);
    chunk.lines++;
  }

  /** Queues the lines offered since the last seal as one chunk; from the I/O thread. */
  void seal() {
    if (chunk.owner != this || chunk.lines == 0) {
      return;
    }
    ByteBuffer packed = chunk.bytes;
    byte[] sealed = new byte[packed.position()];
    packed.putInt(0, chunk.lines).get(0, sealed);
    packed.position(Integer.BYTES);
    chunk.lines = 0;
    enqueue(sealed);
  }

  private void enqueue(byte[] sealed) {
    budget.acquire(cost(sealed.length));
    chunks.add(sealed);
    schedule();
  }

  /**
   * No line follows: the connection closed with {@code reason}. Once the queued lines are through
   * (or dropped, after a restart limit or a sink's error), the connection reports itself closed.
   * From the I/O thread.
   */
  void end(CloseReason reason) {
    boolean discard = reason == CloseReason.RESTART_LIMIT || reason == CloseReason.SERVER_ERROR;
    seal();
    if (chunk.owner == this) {
      chunk.owner = null;
    }
    if (discard) {
      this.discard = true;
    }
    ended = true;
    schedule();
  }

  /**
   * After the executor refused: true unless a retry is due already, which the caller then asks its
   * loop for. From the I/O thread.
   */
  boolean retryDue() {
    if (retryDue) {
      return false;
    }
    retryDue = true;
    return true;
  }

  /** Tries again to hand the queue to the executor, after it refused; from the I/O thread. */
  void retry() {
    retryDue = false;
    schedule();
  }

  /** Past the drain's deadline: a queue the executor keeps refusing drops its lines. */
  void giveUpRetrying() {
    retryDue = false;
    abandon(false);
  }

  /**
   * Drops every queued line and starts no sink call again; a call under way runs on. With {@code
   * givenUp} (by {@code close()}, past its deadline), the connection's end is not reported to the
   * listener either. From any thread. Returns how many lines it dropped.
   */
  long abandon(boolean givenUp) {
    if (givenUp) {
      this.givenUp = true;
    }
    discard = true;
    long dropped = dropAll();
    schedule(); // runs the end on this thread, unless a task is under way: that one will
    return dropped;
  }

  /** True once {@code close()} gave up on this queue: nothing more is reported. */
  boolean isGivenUp() {
    return givenUp;
  }

  /** True while the executor refused the queue's last task: someone must {@link #retry}. */
  boolean isRefused() {
    return refused;
  }

  /** The executor's thread inside the sink for this queue now, if any. */
  @Nullable Thread runner() {
    return runner;
  }

  private void schedule() {
    if (!scheduled.compareAndSet(false, true)) {
      return;
    }
    if (discard) {
      drain(); // nothing reaches the sink: no executor needed to drop lines and report the end
      return;
    }
    try {
      executor.execute(this::drain);
      refused = false;
    } catch (Throwable e) { // RejectedExecutionException, or whatever a hostile executor throws
      Events.rethrowIfFatal(e);
      scheduled.set(false);
      if (executor instanceof ExecutorService service && service.isShutdown()) {
        connection.executorGone(abandon(false)); // it will never take them
      } else {
        refused = true;
        connection.sinkRejected(e);
      }
    }
  }

  private void drain() {
    @Nullable Object caller = Callbacks.enter(reports);
    runner = Thread.currentThread();
    try {
      for (int n = 0; n < CHUNKS_PER_TASK; n++) {
        byte[] next = chunks.poll();
        if (next == null) {
          break;
        }
        try {
          deliver(next);
        } finally {
          budget.release(cost(next.length));
        }
      }
    } catch (Throwable fatal) { // only the errors of a failing JVM come through deliver
      failure = CloseReason.SERVER_ERROR;
      discard = true;
      dropAll();
      connection.closeFromSink(CloseReason.SERVER_ERROR);
      throw fatal;
    } finally {
      runner = null;
      scheduled.set(false);
      if (!chunks.isEmpty()) {
        schedule();
      } else if (ended && scheduled.compareAndSet(false, true)) {
        // The last task after the end: the I/O thread adds nothing more, so nothing can follow.
        connection.sinkDone(failure);
      }
      Callbacks.exit(caller);
    }
  }

  /**
   * Hands the chunk's lines to the sink; past the restart intensity or an error, drops the rest.
   */
  private void deliver(byte[] packed) {
    ByteBuffer bytes = ByteBuffer.wrap(packed);
    int lines = bytes.getInt(0);
    int at = Integer.BYTES;
    int done = 0;
    int delivered = 0;
    try {
      for (; done < lines; done++) {
        int length = bytes.getInt(at);
        at += Integer.BYTES;
        if (!discard) {
          delivered++;
          SinkCall.Outcome outcome = sinkCall.deliver(bytes, at, length);
          if (outcome == SinkCall.Outcome.RESTART_LIMIT || outcome == SinkCall.Outcome.CRASHED) {
            CloseReason reason =
                outcome == SinkCall.Outcome.CRASHED
                    ? CloseReason.SERVER_ERROR
                    : CloseReason.RESTART_LIMIT;
            failure = reason; // the reason reported, should the connection have closed already
            discard = true;
            connection.closeFromSink(reason);
          }
        }
        at += length;
      }
    } finally {
      counters.addShared(Counter.LINES, delivered);
      if (lines > delivered) {
        counters.addShared(Counter.LINES_DROPPED, lines - delivered);
      }
    }
  }

  private long dropAll() {
    long dropped = 0;
    byte[] next;
    while ((next = chunks.poll()) != null) {
      dropped += ByteBuffer.wrap(next).getInt(0);
      budget.release(cost(next.length));
    }
    if (dropped > 0) {
      counters.addShared(Counter.LINES_DROPPED, dropped);
    }
    return dropped;
  }
}
