package dev.lineserver.micrometer;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lineserver.LineServer;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class LineServerMetricsPrometheusTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final String OPEN_METRICS = "application/openmetrics-text; version=1.0.0";

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  @AfterEach
  void closeRegistry() {
    registry.close();
  }

  @Test
  void scrape_afterLinesAndPeerEof_textFormatHasEverySeriesWithUnitsAndTags() throws IOException {
    try (LineServer server = LineServerMetricsTest.start(builder -> builder.sink(line -> {}))) {
      new LineServerMetrics(server, Tags.of("server", "ingest")).bindTo(registry);
      exchange(server, "a\nbb\n" + "x".repeat(20) + "\n");

      String page = registry.scrape();

      assertThat(page.lines())
          .contains(
              "lineserver_connections_open{server=\"ingest\"} 0.0",
              "lineserver_connections_accepted_total{server=\"ingest\"} 1.0",
              "lineserver_connections_refused_total{server=\"ingest\"} 0.0",
              "lineserver_connections_closed_total{reason=\"peer_eof\",server=\"ingest\"} 1.0",
              "lineserver_connections_closed_total{reason=\"idle_timeout\",server=\"ingest\"} 0.0",
              "lineserver_lines_total{outcome=\"delivered\",server=\"ingest\"} 2.0",
              "lineserver_lines_total{outcome=\"too_long\",server=\"ingest\"} 1.0",
              "lineserver_lines_total{outcome=\"dropped\",server=\"ingest\"} 0.0",
              "lineserver_lines_total{outcome=\"partial_dropped\",server=\"ingest\"} 0.0",
              "lineserver_sink_failures_total{server=\"ingest\"} 0.0",
              "lineserver_sink_pending_bytes{server=\"ingest\"} 0.0",
              "lineserver_reads_paused_total{server=\"ingest\"} 0.0",
              "lineserver_restart_limits_reached_total{server=\"ingest\"} 0.0",
              "lineserver_received_bytes_total{server=\"ingest\"} 26.0",
              "lineserver_sent_bytes_total{server=\"ingest\"} 0.0",
              "lineserver_sends_refused_total{server=\"ingest\"} 0.0",
              "lineserver_sends_dropped_bytes_total{server=\"ingest\"} 0.0",
              "# TYPE lineserver_connections_closed_total counter",
              "# HELP lineserver_connections_closed_total Connections closed, by reason",
              "# TYPE lineserver_connections_open gauge");
      assertThat(page.lines().filter(line -> line.startsWith("lineserver_connections_closed_")))
          .hasSize(13);
    }
  }

  @Test
  void scrape_openMetrics_countersTypedAndEndsWithEof() throws IOException {
    try (LineServer server = LineServerMetricsTest.start(builder -> builder.sink(line -> {}))) {
      new LineServerMetrics(server, Tags.of("server", "ingest")).bindTo(registry);
      exchange(server, "a\n");

      String page = registry.scrape(OPEN_METRICS);

      assertThat(page.lines())
          .contains(
              "# TYPE lineserver_connections_closed counter",
              "lineserver_connections_closed_total{reason=\"peer_eof\",server=\"ingest\"} 1.0",
              "# TYPE lineserver_received_bytes counter",
              "lineserver_received_bytes_total{server=\"ingest\"} 2.0",
              "# TYPE lineserver_sink_pending_bytes gauge")
          .last()
          .isEqualTo("# EOF");
    }
  }

  /** Sends {@code text} on one connection and waits for its close to be counted. */
  private void exchange(LineServer server, String text) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
      socket.getOutputStream().write(text.getBytes(UTF_8));
    }
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                registry
                        .get("lineserver.connections.closed")
                        .tag("reason", "peer_eof")
                        .functionCounter()
                        .count()
                    == 1);
  }
}
