package dev.lineserver.internal;

import dev.lineserver.CloseReason;
import java.nio.ByteBuffer;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One connection's lines on their way to a sink that runs on the user's executor. The I/O thread
 * {@link #offer}s copies; at most one task drains them at a time, in order, so the sink is never
 * called concurrently for the connection. Each line's bytes count against the server's {@link
 * Budget} until the sink is done with it. The task owns {@code sinkCall}; the {@code scheduled}
 * flag hands it from one task to the next.
 */
final class SinkQueue {
  /** Lines one task delivers before it yields the executor thread to other connections. */
  private static final int BATCH = 256;

  private final Connection connection;
  private final Executor executor;
  private final Budget budget;
  private final Queue<ByteBuffer> lines = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private volatile boolean ended;
  private volatile boolean discard;
  private final SinkCall sinkCall;

  SinkQueue(Connection connection, Settings settings, Executor executor, Budget budget) {
    this.connection = connection;
    this.executor = executor;
    this.budget = budget;
    this.sinkCall = new SinkCall(connection.peer(), settings, connection.counters());
  }

  /** Queues a copy of a line, at absolute indexes of {@code bytes}; from the I/O thread. */
  void offer(ByteBuffer bytes, int start, int length) {
    ByteBuffer line = ByteBuffer.allocate(length).put(0, bytes, start, length);
    budget.acquire(length);
    lines.add(line);
    schedule();
  }

  /**
   * No line follows; once the queued ones are through (or dropped, if {@code discard}), the
   * connection reports itself closed. From the I/O thread.
   */
  void end(boolean discard) {
    this.discard |= discard;
    ended = true;
    schedule();
  }

  private void schedule() {
    if (scheduled.compareAndSet(false, true)) {
      try {
        executor.execute(this::drain);
      } catch (RejectedExecutionException e) {
        Events.LOGGER.log(
            System.Logger.Level.ERROR,
            "sink executor refused " + connection.peer() + "'s lines",
            e);
        discard = true;
        dropAll();
        if (ended) {
          connection.sinkDone(); // scheduled stays set: nothing runs for this queue again
        } else {
          scheduled.set(false);
          connection.closeFromSink(CloseReason.SERVER_ERROR);
        }
      }
    }
  }

  private void drain() {
    for (int n = 0; n < BATCH; n++) {
      ByteBuffer line = lines.poll();
      if (line == null) {
        break;
      }
      if (!discard) {
        deliver(line);
      }
      budget.release(line.capacity());
    }
    scheduled.set(false);
    if (!lines.isEmpty()) {
      schedule();
    } else if (ended && scheduled.compareAndSet(false, true)) {
      // The last task after the end: the I/O thread adds nothing more, so nothing can follow.
      connection.sinkDone();
    }
  }

  /** Past the restart intensity, drops the rest and closes the connection. */
  private void deliver(ByteBuffer line) {
    if (sinkCall.deliver(line, 0, line.capacity()) == SinkCall.Outcome.RESTART_LIMIT && !discard) {
      discard = true;
      connection.closeFromSink(CloseReason.RESTART_LIMIT);
    }
  }

  private void dropAll() {
    ByteBuffer line;
    while ((line = lines.poll()) != null) {
      budget.release(line.capacity());
    }
  }
}
