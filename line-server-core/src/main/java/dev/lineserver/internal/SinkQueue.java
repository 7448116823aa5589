package dev.lineserver.internal;

import dev.lineserver.ByteLineSink;
import dev.lineserver.CloseReason;
import dev.lineserver.ConnectionLineSink;
import dev.lineserver.LineServerListener;
import java.nio.charset.CoderMalfunctionError;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * One connection's lines on their way to a sink that runs on the user's executor. The I/O thread
 * {@link #offer}s copies; at most one task drains them at a time, in order, so the sink is never
 * called concurrently for the connection. Each line's bytes count against the server's {@link
 * Budget} until the sink is done with it. The task owns {@code restarts} and {@code view}; the
 * {@code scheduled} flag hands them from one task to the next.
 */
final class SinkQueue {
  /** Lines one task delivers before it yields the executor thread to other connections. */
  private static final int BATCH = 256;

  private final Connection connection;
  private final Settings settings;
  private final Executor executor;
  private final Budget budget;
  private final Queue<byte[]> lines = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private volatile boolean ended;
  private volatile boolean discard;
  private @Nullable RestartIntensity restarts;
  private @Nullable LineView view;

  SinkQueue(Connection connection, Settings settings, Executor executor, Budget budget) {
    this.connection = connection;
    this.settings = settings;
    this.executor = executor;
    this.budget = budget;
  }

  /** Queues a copy of a line; from the I/O thread. */
  void offer(byte[] array, int start, int length) {
    byte[] line = new byte[length];
    System.arraycopy(array, start, line, 0, length);
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
      byte[] line = lines.poll();
      if (line == null) {
        break;
      }
      if (!discard) {
        deliver(line);
      }
      budget.release(line.length);
    }
    scheduled.set(false);
    if (!lines.isEmpty()) {
      schedule();
    } else if (ended && scheduled.compareAndSet(false, true)) {
      // The last task after the end: the I/O thread adds nothing more, so nothing can follow.
      connection.sinkDone();
    }
  }

  private void deliver(byte[] line) {
    ByteLineSink byteSink = settings.byteSink();
    if (byteSink != null) {
      LineView bytes = view;
      if (bytes == null) {
        bytes = view = new LineView(settings.charset());
      }
      try {
        byteSink.accept(connection.peer(), bytes.set(line, 0, line.length));
      } catch (Exception e) {
        failed(bytes.asString(), e);
      }
      return;
    }
    String text;
    try {
      text = new String(line, settings.charset());
    } catch (RuntimeException e) {
      failed(null, e);
      return;
    } catch (CoderMalfunctionError e) {
      failed(null, e.getCause() instanceof Exception cause ? cause : new IllegalStateException(e));
      return;
    }
    try {
      ConnectionLineSink sink = settings.stringSink();
      if (sink != null) {
        sink.accept(connection.peer(), text);
      }
    } catch (Exception e) {
      failed(text, e);
    }
  }

  /** Counts and reports a failure; past the restart intensity, drops the rest and closes. */
  private void failed(@Nullable String line, Exception error) {
    connection.counters().addShared(Counters.SINK_FAILURES, 1);
    LineServerListener listener = settings.listener();
    Events.report(() -> listener.sinkFailed(connection.peer(), line, error));
    RestartIntensity intensity = restarts;
    if (intensity == null) {
      intensity =
          restarts = new RestartIntensity(settings.maxRestarts(), settings.restartPeriodNanos());
    }
    if (!intensity.allow(System.nanoTime()) && !discard) {
      discard = true;
      connection.counters().addShared(Counters.RESTART_LIMITS, 1);
      Events.report(
          () ->
              listener.restartLimitReached(
                  connection.peer(),
                  settings.maxRestarts(),
                  java.time.Duration.ofNanos(settings.restartPeriodNanos())));
      connection.closeFromSink(CloseReason.RESTART_LIMIT);
    }
  }

  private void dropAll() {
    byte[] line;
    while ((line = lines.poll()) != null) {
      budget.release(line.length);
    }
  }
}
