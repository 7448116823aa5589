package dev.lineserver.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lineserver.CloseReason;
import dev.lineserver.ConnectionInfo;
import dev.lineserver.LineServer;
import dev.lineserver.LineServerListener;
import dev.lineserver.LineSink;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

final class LineServerMetricsTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @Test
  void bindTo_freshServer_everyMeterAtZeroWithTheCommonTag() throws IOException {
    try (LineServer server = start(line -> {})) {
      new LineServerMetrics(server, Tags.of("server", "ingest")).bindTo(registry);

      assertThat(registry.getMeters())
          .hasSize(10 + CloseReason.values().length)
          .allSatisfy(meter -> assertThat(meter.getId().getTag("server")).isEqualTo("ingest"))
          .allSatisfy(
              meter ->
                  assertThat(meter.measure())
                      .singleElement()
                      .satisfies(measurement -> assertThat(measurement.getValue()).isZero()));
      assertThat(registry.find("lineserver.connections.closed").functionCounters())
          .extracting(counter -> counter.getId().getTag("reason"))
          .containsExactlyInAnyOrderElementsOf(
              Arrays.stream(CloseReason.values())
                  .map(reason -> reason.name().toLowerCase(Locale.ROOT))
                  .toList());
      assertThat(registry.get("lineserver.received").functionCounter().getId().getBaseUnit())
          .isEqualTo("bytes");
      assertThat(registry.get("lineserver.sink.pending").gauge().getId().getType())
          .isEqualTo(Meter.Type.GAUGE);
    }
  }

  @Test
  void bindTo_linesThenPeerClose_metersFollowTheTraffic() throws IOException {
    LineSink sink =
        line -> {
          if (line.equals("bad")) {
            throw new IllegalArgumentException("bad line");
          }
        };
    try (LineServer server = start(sink)) {
      new LineServerMetrics(server, Tags.of("server", "ingest")).bindTo(registry);
      byte[] bytes = ("a\nbb\nbad\n" + "x".repeat(20) + "\n").getBytes(UTF_8);
      try (Socket socket = new Socket(LOOPBACK, server.port())) {
        OutputStream out = socket.getOutputStream();
        out.write(bytes);
        out.flush();

        await().atMost(TIMEOUT).until(() -> counter("lineserver.lines") == 3);
        await().atMost(TIMEOUT).until(() -> counter("lineserver.lines.too.long") == 1);
        assertThat(counter("lineserver.connections.accepted")).isEqualTo(1);
        assertThat(gauge("lineserver.connections.open")).isEqualTo(1);
        assertThat(counter("lineserver.received")).isEqualTo(bytes.length);
        assertThat(counter("lineserver.sink.failures")).isEqualTo(1);
        assertThat(closed(CloseReason.PEER_EOF)).isZero();
      }

      await().atMost(TIMEOUT).until(() -> closed(CloseReason.PEER_EOF) == 1);
      assertThat(gauge("lineserver.connections.open")).isZero();
      assertThat(counter("lineserver.connections.refused")).isZero();
      assertThat(counter("lineserver.restart.limits.reached")).isZero();
      assertThat(counter("lineserver.reads.paused")).isZero();
      assertThat(gauge("lineserver.sink.pending")).isZero();
      assertThat(closed(CloseReason.PEER_RESET)).isZero();
    }
  }

  @Test
  void bindTo_prometheusRegistry_conventionalNamesWithUnitsAndTags() throws IOException {
    PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (LineServer server = start(line -> {})) {
      new LineServerMetrics(server, Tags.of("server", "ingest")).bindTo(prometheus);

      assertThat(prometheus.scrape())
          .contains(
              "lineserver_connections_accepted_total{server=\"ingest\"} 0",
              "lineserver_connections_refused_total{server=\"ingest\"} 0",
              "lineserver_connections_closed_total{reason=\"peer_eof\",server=\"ingest\"} 0",
              "lineserver_connections_open{server=\"ingest\"} 0",
              "lineserver_received_bytes_total{server=\"ingest\"} 0",
              "lineserver_lines_total{server=\"ingest\"} 0",
              "lineserver_lines_too_long_total{server=\"ingest\"} 0",
              "lineserver_sink_failures_total{server=\"ingest\"} 0",
              "lineserver_restart_limits_reached_total{server=\"ingest\"} 0",
              "lineserver_reads_paused_total{server=\"ingest\"} 0",
              "lineserver_sink_pending_bytes{server=\"ingest\"} 0");
    } finally {
      prometheus.close();
    }
  }

  private double counter(String name) {
    return registry.get(name).functionCounter().count();
  }

  private double gauge(String name) {
    return registry.get(name).gauge().value();
  }

  private double closed(CloseReason reason) {
    return registry
        .get("lineserver.connections.closed")
        .tag("reason", reason.name().toLowerCase(Locale.ROOT))
        .functionCounter()
        .count();
  }

  /** A loopback server with short lines whose listener keeps the expected failures out of logs. */
  private static LineServer start(LineSink sink) throws IOException {
    return LineServer.builder()
        .bindAddress(LOOPBACK)
        .port(0)
        .maxLineLength(8)
        .sink(sink)
        .listener(
            new LineServerListener() {
              @Override
              public void lineTooLong(ConnectionInfo connection, long length) {}

              @Override
              public void sinkFailed(
                  ConnectionInfo connection, @Nullable String line, Exception error) {}
            })
        .start();
  }
}
