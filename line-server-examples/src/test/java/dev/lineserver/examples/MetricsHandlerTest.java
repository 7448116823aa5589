package dev.lineserver.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

final class MetricsHandlerTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final HttpClient client = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
  private MetricsEndpoint endpoint;

  @BeforeEach
  void start() throws IOException {
    endpoint =
        MetricsEndpoint.start(
            InetAddress.getLoopbackAddress(),
            0,
            registry ->
                Counter.builder("vehicles.seen")
                    .baseUnit("vehicles")
                    .register(registry)
                    .increment(3));
  }

  @AfterEach
  void stop() {
    endpoint.close();
  }

  @Test
  void get_noAcceptHeader_textFormat004() throws Exception {
    HttpResponse<String> response = send(request());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValue("text/plain; version=0.0.4; charset=utf-8");
    assertThat(response.body().lines())
        .contains("# TYPE vehicles_seen_vehicles_total counter", "vehicles_seen_vehicles_total 3.0")
        .doesNotContain("# EOF");
  }

  @Test
  void get_acceptPrometheusText_textFormat004() throws Exception {
    HttpResponse<String> response =
        send(request().header("Accept", "text/plain;version=0.0.4;q=0.3,*/*;q=0.2"));

    assertThat(response.headers().firstValue("Content-Type"))
        .hasValue("text/plain; version=0.0.4; charset=utf-8");
    assertThat(response.body().lines()).contains("vehicles_seen_vehicles_total 3.0");
  }

  @Test
  void get_acceptOpenMetrics_openMetricsEndingWithEof() throws Exception {
    // What Prometheus sends by default (scrape_protocols without PrometheusProto).
    HttpResponse<String> response =
        send(
            request()
                .header(
                    "Accept",
                    "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,"
                        + "application/openmetrics-text;version=0.0.1;q=0.4,"
                        + "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,"
                        + "text/plain;version=0.0.4;q=0.2,*/*;q=0.1"));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValue("application/openmetrics-text; version=1.0.0; charset=utf-8");
    assertThat(response.body().lines())
        .contains("# TYPE vehicles_seen_vehicles counter", "vehicles_seen_vehicles_total 3.0")
        .last()
        .isEqualTo("# EOF");
  }

  @Test
  void get_acceptProtobuf_protobufWithItsContentType() throws Exception {
    HttpResponse<byte[]> response =
        client.send(
            request()
                .header(
                    "Accept",
                    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
                        + "encoding=delimited;q=0.5,text/plain;version=0.0.4;q=0.1")
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily");
    assertThat(new String(response.body(), UTF_8)).contains("vehicles_seen_vehicles_total");
  }

  @Test
  void post_refusedWithAllowGet() throws Exception {
    HttpResponse<String> response = send(request().POST(HttpRequest.BodyPublishers.ofString("x")));

    assertThat(response.statusCode()).isEqualTo(405);
    assertThat(response.headers().firstValue("Allow")).hasValue("GET");
  }

  private HttpRequest.Builder request() {
    return HttpRequest.newBuilder(URI.create(endpoint.url())).timeout(TIMEOUT);
  }

  private HttpResponse<String> send(HttpRequest.Builder request)
      throws IOException, InterruptedException {
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString(UTF_8));
  }
}
