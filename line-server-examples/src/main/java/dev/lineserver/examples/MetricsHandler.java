package dev.lineserver.examples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import org.jspecify.annotations.Nullable;

/**
 * Answers {@code GET} with a scrape of the registry in the format the request's {@code Accept}
 * header asks for, as Prometheus' own exporters negotiate it ({@link ExpositionFormats}): {@code
 * application/openmetrics-text} gets OpenMetrics 1.0 (ending with {@code # EOF}), Prometheus'
 * protobuf format is served when asked for, and anything else, no header included, gets the text
 * format 0.0.4. The response's {@code Content-Type} is that format's. Other methods get 405.
 */
final class MetricsHandler implements HttpHandler {
  private final PrometheusMeterRegistry registry;
  private final ExpositionFormats formats = ExpositionFormats.init();

  MetricsHandler(PrometheusMeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!exchange.getRequestMethod().equals("GET")) {
        exchange.getResponseHeaders().set("Allow", "GET");
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      String contentType = contentType(exchange.getRequestHeaders().getFirst("Accept"));
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      registry.scrape(body, contentType); // chooses the same writer from its content type
      exchange.getResponseHeaders().set("Content-Type", contentType);
      exchange.sendResponseHeaders(200, body.size());
      try (OutputStream out = exchange.getResponseBody()) {
        body.writeTo(out);
      }
    }
  }

  /** The content type of the format to answer {@code accept} with. */
  String contentType(@Nullable String accept) {
    ExpositionFormatWriter writer = formats.findWriter(accept);
    if (!writer.isAvailable()) { // protobuf asked for, its jar missing
      writer = formats.getPrometheusTextFormatWriter();
    }
    return writer.getContentType();
  }
}
