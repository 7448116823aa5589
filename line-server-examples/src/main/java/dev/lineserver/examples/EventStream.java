package dev.lineserver.examples;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * {@code GET /events}: Server-Sent Events for the {@link LivePage}, one {@code data:} line of JSON
 * per interval (the first at once) with the {@link VehicleTracker}'s figures and at most {@value
 * #MAX_VEHICLES} latest positions:
 *
 * <pre>{@code
 * {"lines":1200,"linesPerSecond":200.0,"vehicles":200,"rejected":1,"openConnections":8,
 *  "positions":[["veh-001",52.51,13.39],...]}
 * }</pre>
 *
 * <p>Each client holds one handler thread of the HTTP server until it goes (the next write fails)
 * or {@link #close()}; beyond {@value #MAX_CLIENTS} clients, or after close, a client gets 503.
 * Lines/s is measured over the time since the previous sample of any client, at least half a
 * second.
 */
final class EventStream implements HttpHandler, AutoCloseable {
  static final String PATH = "/events";

  /** Clients streamed to at once; one more gets 503. */
  static final int MAX_CLIENTS = 16;

  /** Positions one event carries at most; the page says how many of how many it shows. */
  static final int MAX_VEHICLES = 2000;

  /** A longer vehicle id is cut to this many characters in an event. */
  static final int MAX_ID_LENGTH = 64;

  private static final long MIN_SAMPLE_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

  private final VehicleTracker tracker;
  private final long intervalNanos;
  private final Semaphore clients = new Semaphore(MAX_CLIENTS);
  private final CountDownLatch closed = new CountDownLatch(1);
  // Guarded by this: the previous sample of the line count.
  private long sampledLines;
  private long sampledNanos;
  private double linesPerSecond;

  EventStream(VehicleTracker tracker, Duration interval) {
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("interval: " + interval + " (expected: > 0)");
    }
    this.tracker = tracker;
    this.intervalNanos = interval.toNanos();
    this.sampledLines = tracker.lines();
    this.sampledNanos = System.nanoTime();
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!exchange.getRequestMethod().equals("GET")) {
        exchange.getResponseHeaders().set("Allow", "GET");
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      if (closed.getCount() == 0 || !clients.tryAcquire()) {
        exchange.getResponseHeaders().set("Retry-After", "5");
        exchange.sendResponseHeaders(503, -1);
        return;
      }
      try {
        stream(exchange);
      } finally {
        clients.release();
      }
    }
  }

  private void stream(HttpExchange exchange) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    exchange.sendResponseHeaders(200, 0);
    OutputStream body = exchange.getResponseBody();
    try {
      // A client that reconnects waits 2 s rather than EventSource's default 3.
      body.write("retry: 2000\n\n".getBytes(UTF_8));
      do {
        body.write(("data: " + event() + "\n\n").getBytes(UTF_8));
        body.flush();
      } while (!closed.await(intervalNanos, TimeUnit.NANOSECONDS));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      // The client went; its thread is free again.
    }
  }

  /** The JSON of one event, now. */
  String event() {
    long lines = tracker.lines();
    List<Position> positions = tracker.positions(MAX_VEHICLES);
    StringBuilder json = new StringBuilder(64 + positions.size() * 40);
    json.append(
        String.format(
            Locale.ROOT,
            "{\"lines\":%d,\"linesPerSecond\":%.1f,\"vehicles\":%d,\"rejected\":%d,"
                + "\"openConnections\":%d,\"positions\":[",
            lines,
            linesPerSecond(lines, System.nanoTime()),
            tracker.vehicles(),
            tracker.rejected(),
            tracker.openConnections()));
    for (int i = 0; i < positions.size(); i++) {
      Position position = positions.get(i);
      if (i > 0) {
        json.append(',');
      }
      json.append('[');
      appendString(json, position.vehicleId());
      json.append(String.format(Locale.ROOT, ",%.6f,%.6f]", position.lat(), position.lon()));
    }
    return json.append("]}").toString();
  }

  private synchronized double linesPerSecond(long lines, long now) {
    if (now - sampledNanos >= MIN_SAMPLE_NANOS) {
      linesPerSecond = (lines - sampledLines) * 1e9 / (now - sampledNanos);
      sampledLines = lines;
      sampledNanos = now;
    }
    return linesPerSecond;
  }

  /** {@code text}, at most {@link #MAX_ID_LENGTH} characters of it, as a JSON string. */
  private static void appendString(StringBuilder json, String text) {
    json.append('"');
    for (int i = 0; i < Math.min(text.length(), MAX_ID_LENGTH); i++) {
      char c = text.charAt(i);
      if (c == '"' || c == '\\') {
        json.append('\\').append(c);
      } else if (c < 0x20 || c == 0x2028 || c == 0x2029 || Character.isSurrogate(c)) {
        // A surrogate alone (the cut split a pair) would be invalid; escaped, it is only odd.
        json.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
      } else {
        json.append(c);
      }
    }
    json.append('"');
  }

  /** Ends every stream at its next wait, and answers 503 from now on. Idempotent. */
  @Override
  public void close() {
    closed.countDown();
  }

  @Override
  public String toString() {
    return "EventStream " + PATH;
  }
}
