package dev.lineserver;

import java.time.Duration;
import java.util.List;

/**
 * What {@link LineServer#health()} found, for a readiness probe: whether the server accepts
 * connections, how many of its I/O threads are alive, and whether its sink executor is stalled,
 * with a sentence for each problem in {@link #reasons()}.
 *
 * @param accepting the acceptor thread is alive, the listening socket open, and {@code close()} not
 *     called
 * @param ioThreads the I/O threads the server started
 * @param ioThreadsAlive those still running: one that died (an error of a failing JVM, such as
 *     {@link OutOfMemoryError}, ended it) closed its connections and takes no new ones
 * @param sinkWaiting with a {@link LineServer.Builder#sinkExecutor}: how long lines have been
 *     waiting for the sink while no batch of them (the lines of one read of one connection) went
 *     through; zero when none waits, or without a sink executor
 * @param sinkStalled {@code sinkWaiting} is past {@link LineServer.Builder#sinkStallThreshold}
 * @param reasons one sentence for each problem, none when healthy
 */
public record LineServerHealth(
    boolean accepting,
    int ioThreads,
    int ioThreadsAlive,
    Duration sinkWaiting,
    boolean sinkStalled,
    List<String> reasons) {

  /** Keeps an unmodifiable copy of {@code reasons}. */
  public LineServerHealth {
    reasons = List.copyOf(reasons);
  }

  /** Accepting, every I/O thread alive and the sink not stalled. */
  public boolean healthy() {
    return accepting && ioThreadsAlive == ioThreads && !sinkStalled;
  }
}
