package dev.lineserver.examples;

import dev.lineserver.CloseReason;
import dev.lineserver.ConnectionInfo;
import dev.lineserver.LineServerListener;
import dev.lineserver.LineSink;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * The latest position of every vehicle, and counters of what arrived. A server's sink ({@link
 * #accept}) and listener ({@link #listener()}): both are called on every I/O thread at once, so all
 * state is concurrent and no lock is taken on the line path. A vehicle's position is replaced only
 * by a newer one, so reports that arrive out of order (two connections, a retrying device) never
 * move a vehicle back in time.
 */
final class VehicleTracker implements LineSink {
  private final ConcurrentHashMap<String, Position> latest = new ConcurrentHashMap<>();
  private final LongAdder lines = new LongAdder();
  private final LongAdder rejected = new LongAdder();
  private final AtomicInteger openConnections = new AtomicInteger();
  private final LineServerListener listener = new Listener();

  /**
   * Records the position {@code line} describes.
   *
   * @throws IllegalArgumentException if the line is malformed; the server reports it to {@link
   *     #listener()}, which counts it as rejected
   */
  @Override
  public void accept(String line) {
    lines.increment();
    Position position = PositionParser.parse(line);
    latest.merge(position.vehicleId(), position, VehicleTracker::newer);
  }

  private static Position newer(Position current, Position candidate) {
    return candidate.epochMillis() > current.epochMillis() ? candidate : current;
  }

  /** The listener to give the same server: counts connections and rejected lines. */
  LineServerListener listener() {
    return listener;
  }

  /** The newest position {@code vehicleId} reported, or null if it reported none. */
  @Nullable Position latest(String vehicleId) {
    return latest.get(vehicleId);
  }

  /** How many distinct vehicles reported at least one valid position. */
  int vehicles() {
    return latest.size();
  }

  /** Lines handed to the sink, valid or not; a line too long to be delivered is not among them. */
  long lines() {
    return lines.sum();
  }

  /** Lines rejected as malformed or too long. */
  long rejected() {
    return rejected.sum();
  }

  int openConnections() {
    return openConnections.get();
  }

  private final class Listener implements LineServerListener {
    @Override
    public void connectionOpened(ConnectionInfo connection) {
      openConnections.incrementAndGet();
    }

    @Override
    public void connectionClosed(ConnectionInfo connection, CloseReason reason) {
      openConnections.decrementAndGet();
    }

    /**
     * A malformed line is expected input, not a fault: it is counted, not logged, since a stack
     * trace per bad line would flood the log. Any other exception is a bug in the sink and is
     * logged in full.
     */
    @Override
    public void sinkFailed(ConnectionInfo connection, @Nullable String line, Exception error) {
      rejected.increment();
      if (!(error instanceof IllegalArgumentException)) {
        LineServerListener.super.sinkFailed(connection, line, error);
      }
    }

    @Override
    public void lineTooLong(ConnectionInfo connection, long length) {
      rejected.increment();
    }
  }
}
