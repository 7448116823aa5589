package dev.lineserver.examples;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.lineserver.LineServerHealth;
import java.io.IOException;
import java.io.OutputStream;
import java.util.function.Supplier;

/**
 * Answers {@code GET /health} for a readiness probe: 200 when {@link LineServerHealth#healthy()},
 * else 503, with the parts as a small JSON object:
 *
 * <pre>{@code
 * {"healthy":false,"accepting":true,"ioThreads":2,"ioThreadsAlive":2,"sinkStalled":true,
 *  "sinkWaitingMillis":12034,"reasons":["sink stalled: lines have waited 12034 ms ..."]}
 * }</pre>
 *
 * Stateless; each request calls the supplier once (for a {@code LineServer}, microseconds).
 */
final class HealthHandler implements HttpHandler {
  static final String PATH = "/health";

  private final Supplier<LineServerHealth> health;

  /** Reports what {@code health} says, e.g. {@code server::health}. */
  HealthHandler(Supplier<LineServerHealth> health) {
    this.health = health;
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!exchange.getRequestMethod().equals("GET")) {
        exchange.getResponseHeaders().set("Allow", "GET");
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      LineServerHealth now = health.get();
      byte[] body = json(now).getBytes(UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.getResponseHeaders().set("Cache-Control", "no-store");
      exchange.sendResponseHeaders(now.healthy() ? 200 : 503, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  static String json(LineServerHealth health) {
    StringBuilder json =
        new StringBuilder()
            .append("{\"healthy\":")
            .append(health.healthy())
            .append(",\"accepting\":")
            .append(health.accepting())
            .append(",\"ioThreads\":")
            .append(health.ioThreads())
            .append(",\"ioThreadsAlive\":")
            .append(health.ioThreadsAlive())
            .append(",\"sinkStalled\":")
            .append(health.sinkStalled())
            .append(",\"sinkWaitingMillis\":")
            .append(health.sinkWaiting().toMillis())
            .append(",\"reasons\":[");
    for (int i = 0; i < health.reasons().size(); i++) {
      if (i > 0) {
        json.append(',');
      }
      string(json, health.reasons().get(i));
    }
    return json.append("]}").toString();
  }

  /** Appends {@code text} as a JSON string. */
  private static void string(StringBuilder json, String text) {
    json.append('"');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '"' || c == '\\') {
        json.append('\\').append(c);
      } else if (c < 0x20) {
        json.append(String.format("\\u%04x", (int) c));
      } else {
        json.append(c);
      }
    }
    json.append('"');
  }
}
