package dev.lineserver.examples;

import dev.lineserver.CloseReason;
import dev.lineserver.ConnectionInfo;
import dev.lineserver.ConnectionLineSink;
import dev.lineserver.LineServerListener;
import dev.lineserver.SendResult;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * The latest position of every vehicle, the connection each vehicle last reported on, and counters
 * of what arrived. A server's sink ({@link #accept}) and listener ({@link #listener()}): both are
 * called on every I/O thread at once, so all state is concurrent and no lock is taken on the line
 * path. A vehicle's position is replaced only by a newer one, so reports that arrive out of order
 * (two connections, a retrying device) never move a vehicle back in time.
 *
 * <p>Replies, one line each to the connection the line came on: {@code ACK <vehicleId>
 * <epochMillis>} for an accepted position (a gateway relays many vehicles, so the ACK names the
 * record by the two fields that identify it), {@code ERR <reason>} for a malformed line or one too
 * long. A reply the send queue refuses (the peer does not read) is counted, not retried.
 */
final class VehicleTracker implements ConnectionLineSink {
  /**
   * The longest reason an {@code ERR} line carries; the parser's message may quote a whole line.
   */
  static final int MAX_REASON_LENGTH = 120;

  private final ConcurrentHashMap<String, Position> latest = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Long> routes = new ConcurrentHashMap<>();
  private final LongAdder lines = new LongAdder();
  private final LongAdder rejected = new LongAdder();
  private final LongAdder repliesRefused = new LongAdder();
  private final AtomicInteger openConnections = new AtomicInteger();
  private final LineServerListener listener = new Listener();

  /**
   * Records the position {@code line} describes, routes its vehicle to {@code connection}, and
   * acknowledges it.
   *
   * @throws IllegalArgumentException if the line is malformed, after answering {@code ERR}; the
   *     server reports it to {@link #listener()}, which counts it as rejected, and its restart
   *     intensity still closes a connection that sends nothing but garbage
   */
  @Override
  public void accept(ConnectionInfo connection, String line) {
    lines.increment();
    Position position;
    try {
      position = PositionParser.parse(line);
    } catch (IllegalArgumentException e) {
      reply(connection, "ERR " + reason(String.valueOf(e.getMessage())));
      throw e;
    }
    latest.merge(position.vehicleId(), position, VehicleTracker::newer);
    Long route = routes.get(position.vehicleId());
    if (route == null || route != connection.id()) {
      routes.put(position.vehicleId(), connection.id());
    }
    reply(connection, "ACK " + position.vehicleId() + " " + position.epochMillis());
  }

  private void reply(ConnectionInfo connection, String text) {
    if (connection.sendLine(text) != SendResult.QUEUED) {
      repliesRefused.increment();
    }
  }

  /** {@code message} on one line of at most {@link #MAX_REASON_LENGTH} characters. */
  static String reason(String message) {
    StringBuilder reason = new StringBuilder(Math.min(message.length(), MAX_REASON_LENGTH));
    for (int i = 0; i < message.length() && reason.length() < MAX_REASON_LENGTH; i++) {
      char c = message.charAt(i);
      reason.append(Character.isISOControl(c) ? ' ' : c);
    }
    if (message.length() > MAX_REASON_LENGTH) {
      reason.setLength(MAX_REASON_LENGTH - 3);
      reason.append("...");
    }
    return reason.toString();
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

  /**
   * Up to {@code max} of the latest positions, one per vehicle, in no particular order: a copy, so
   * a caller may hold it while lines go on arriving. Which vehicles a capped copy holds is
   * unspecified; it costs {@code O(max)}, not {@code O(vehicles)}.
   */
  List<Position> positions(int max) {
    if (max < 0) {
      throw new IllegalArgumentException("max: " + max + " (expected: >= 0)");
    }
    List<Position> positions = new ArrayList<>(Math.min(max, latest.size()));
    Iterator<Position> values = latest.values().iterator();
    while (positions.size() < max && values.hasNext()) {
      positions.add(values.next());
    }
    return Collections.unmodifiableList(positions);
  }

  /**
   * The id ({@link ConnectionInfo#id()}) of the open connection {@code vehicleId} last reported a
   * valid position on, or null if none: it never reported, or that connection closed.
   */
  @Nullable Long connectionOf(String vehicleId) {
    return routes.get(vehicleId);
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

  /** Replies ({@code ACK}, {@code ERR}) the send queue refused, or found the connection closed. */
  long repliesRefused() {
    return repliesRefused.sum();
  }

  int openConnections() {
    return openConnections.get();
  }

  private final class Listener implements LineServerListener {
    @Override
    public void connectionOpened(ConnectionInfo connection) {
      openConnections.incrementAndGet();
    }

    /**
     * Forgets the routes through {@code connection}, before the count of open connections drops; a
     * vehicle that moved to another connection meanwhile keeps its new route.
     */
    @Override
    public void connectionClosed(ConnectionInfo connection, CloseReason reason) {
      long closed = connection.id();
      // ConcurrentHashMap removes each entry only if it still holds the value tested.
      routes.values().removeIf(id -> id == closed);
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

    /**
     * Counts the line and answers {@code ERR}. With a sink executor this may come before the
     * replies to lines that arrived ahead of it (see {@link LineServerListener}); without one, as
     * here, it comes in order.
     */
    @Override
    public void lineTooLong(ConnectionInfo connection, long length) {
      rejected.increment();
      reply(connection, "ERR line too long: " + length + " bytes");
    }
  }
}
