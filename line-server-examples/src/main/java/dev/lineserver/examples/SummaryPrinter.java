package dev.lineserver.examples;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Prints one line about a {@link VehicleTracker} every interval, and about the {@link
 * FleetSimulator} feeding it if there is one (the replies it received, the commands it obeyed), on
 * its own daemon thread {@code vehicle-service-summary}, until {@link #close()}. Only that thread
 * touches the previous-count fields.
 */
final class SummaryPrinter implements AutoCloseable {
  static final String THREAD_NAME = "vehicle-service-summary";

  private final VehicleTracker tracker;
  private final @Nullable FleetSimulator simulator;
  private final PrintStream out;
  private final long intervalNanos;
  private final CountDownLatch stop = new CountDownLatch(1);
  private final Thread thread;
  private long lastLines;
  private long lastNanos;

  private SummaryPrinter(
      VehicleTracker tracker,
      @Nullable FleetSimulator simulator,
      PrintStream out,
      Duration interval) {
    this.tracker = tracker;
    this.simulator = simulator;
    this.out = out;
    this.intervalNanos = interval.toNanos();
    this.thread = new Thread(this::run, THREAD_NAME);
    this.thread.setDaemon(true);
  }

  static SummaryPrinter start(
      VehicleTracker tracker,
      @Nullable FleetSimulator simulator,
      PrintStream out,
      Duration interval) {
    SummaryPrinter printer = new SummaryPrinter(tracker, simulator, out, interval);
    printer.thread.start();
    return printer;
  }

  private void run() {
    lastLines = tracker.lines();
    lastNanos = System.nanoTime();
    try {
      while (!stop.await(intervalNanos, TimeUnit.NANOSECONDS)) {
        long lines = tracker.lines();
        long now = System.nanoTime();
        double perSecond = (lines - lastLines) * 1e9 / Math.max(1, now - lastNanos);
        lastLines = lines;
        lastNanos = now;
        String line =
            format(perSecond, tracker.vehicles(), tracker.rejected(), tracker.openConnections());
        out.println(simulator == null ? line : line + " " + format(simulator));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static String format(double linesPerSecond, int vehicles, long rejected, int connections) {
    return String.format(
        Locale.ROOT,
        "lines/s=%.0f vehicles=%d rejected=%d connections=%d",
        linesPerSecond,
        vehicles,
        rejected,
        connections);
  }

  /** What {@code simulator} received so far. */
  static String format(FleetSimulator simulator) {
    return String.format(
        Locale.ROOT,
        "sim: acks=%d errors=%d commands=%d",
        simulator.acks(),
        simulator.errors(),
        simulator.commandsObeyed());
  }

  /** Stops printing and waits for the thread to end. Idempotent. */
  @Override
  public void close() {
    stop.countDown();
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
