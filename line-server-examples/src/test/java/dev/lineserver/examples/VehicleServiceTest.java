package dev.lineserver.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class VehicleServiceTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  private static final long SEED = 20240607L;

  // Series of the Prometheus page, as scraped.
  private static final String LINES = "lineserver_lines_total{server=\"vehicles\"}";
  private static final String ACCEPTED =
      "lineserver_connections_accepted_total{server=\"vehicles\"}";
  private static final String OPEN = "lineserver_connections_open{server=\"vehicles\"}";
  private static final String CLOSED_AT_EOF =
      "lineserver_connections_closed_total{reason=\"peer_eof\",server=\"vehicles\"}";

  private final ByteArrayOutputStream output = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(output, true, UTF_8);

  @AfterEach
  void noThreadSurvives() {
    await()
        .atMost(TIMEOUT)
        .untilAsserted(
            () ->
                assertThat(liveThreadNames())
                    .noneMatch(
                        name ->
                            name.startsWith("line-server")
                                // the JDK HttpServer's dispatcher, behind MetricsEndpoint
                                || name.equals("HTTP-Dispatcher")
                                || name.startsWith(FleetSimulator.THREAD_PREFIX)
                                || name.startsWith(VehicleService.THREAD_PREFIX)));
  }

  @Test
  void start_simulatorOverTwoConnections_tracksVehiclesAndCountsRejects() throws IOException {
    try (VehicleService service = VehicleService.start(listenOnly(0), out)) {
      VehicleTracker tracker = service.tracker();
      FleetSimulator simulator =
          FleetSimulator.start(
              new FleetSimulator.Options(
                  LOOPBACK.getHostAddress(), service.port(), 5, 2, 100, 10, 0, SEED));
      try {
        await()
            .atMost(TIMEOUT)
            .until(
                () -> tracker.lines() >= 300 && tracker.vehicles() == 5 && tracker.rejected() >= 1);
        assertThat(tracker.openConnections()).isEqualTo(2);
      } finally {
        simulator.close();
      }
      // Each connection half-closed after its last counted line; the server delivers up to EOF.
      await().atMost(TIMEOUT).until(() -> tracker.openConnections() == 0);

      assertThat(simulator.sent()).isGreaterThanOrEqualTo(300);
      assertThat(tracker.lines()).isEqualTo(simulator.sent());
      assertThat(tracker.rejected()).isPositive().isEqualTo(simulator.malformedSent());
      assertThat(tracker.vehicles()).isEqualTo(5);
      assertThat(tracker.latest("veh-3"))
          .isNotNull()
          .satisfies(
              position ->
                  assertThat(position.lat())
                      .isBetween(
                          SimulatedVehicle.CENTER_LAT - SimulatedVehicle.SPAN_LAT,
                          SimulatedVehicle.CENTER_LAT + SimulatedVehicle.SPAN_LAT));
    }
    assertThat(output.toString(UTF_8)).contains("stopped: lines=");
  }

  @Test
  void start_manyMalformedLinesOnOneConnection_keepsItOpen() throws IOException {
    try (VehicleService service = VehicleService.start(listenOnly(0), out);
        Socket socket = new Socket(LOOPBACK, service.port())) {
      VehicleTracker tracker = service.tracker();
      OutputStream stream = socket.getOutputStream();
      // 50 failures at once: the default restart intensity (3 within 5 s) would close this one.
      stream.write("bus-1,1000,95,13.4,30,90\n".repeat(50).getBytes(UTF_8));
      stream.write("bus-1,2000,52.5,13.4,30,90\n".getBytes(UTF_8));
      stream.flush();

      await().atMost(TIMEOUT).until(() -> tracker.vehicles() == 1);
      assertThat(tracker.rejected()).isEqualTo(50);
      assertThat(tracker.openConnections()).isEqualTo(1);
      assertThat(tracker.latest("bus-1"))
          .isEqualTo(new Position("bus-1", 2000, 52.5, 13.4, 30, 90));
    }
  }

  @Test
  void start_withSimulation_printsSummaryLines() throws IOException {
    VehicleService.Options options = new VehicleService.Options(LOOPBACK, 0, 20, 2, 10, 1000, -1);
    try (VehicleService service = VehicleService.start(options, out)) {
      assertThat(service.simulator()).isNotNull();

      await().atMost(TIMEOUT).until(() -> output.toString(UTF_8).contains("vehicles=20 "));
    }
    assertThat(output.toString(UTF_8))
        .containsPattern("lines/s=\\d+ vehicles=\\d+ rejected=\\d+ connections=\\d+")
        .contains("stopped: lines=");
  }

  @Test
  void start_withMetricsPort_servesCountersThatFollowTheTraffic() throws Exception {
    HttpClient client = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    URI uri;
    try (VehicleService service = VehicleService.start(listenOnlyWithMetrics(0), out)) {
      uri = URI.create(requireNonNull(service.metricsUrl()));
      assertThat(uri.getPort()).isPositive();
      String before = scrape(client, uri);
      assertThat(value(before, LINES)).isZero();
      assertThat(value(before, CLOSED_AT_EOF)).isZero();

      String lines = "bus-1,1000,52.5,13.4,30,90\n".repeat(5) + "garbage\n";
      try (Socket socket = new Socket(LOOPBACK, service.port())) {
        socket.getOutputStream().write(lines.getBytes(UTF_8));
        socket.getOutputStream().flush();

        await().atMost(TIMEOUT).until(() -> value(scrape(client, uri), LINES) == 6);
        String during = scrape(client, uri);
        assertThat(value(during, ACCEPTED)).isEqualTo(1);
        assertThat(value(during, OPEN)).isEqualTo(1);
        assertThat(value(during, "lineserver_received_bytes_total{server=\"vehicles\"}"))
            .isEqualTo(lines.length());
        assertThat(value(during, "lineserver_sink_failures_total{server=\"vehicles\"}"))
            .isEqualTo(1);
      }

      await().atMost(TIMEOUT).until(() -> value(scrape(client, uri), CLOSED_AT_EOF) == 1);
      String after = scrape(client, uri);
      assertThat(value(after, OPEN)).isZero();
      assertThat(value(after, ACCEPTED)).isEqualTo(1);
      assertThat(value(after, LINES)).isEqualTo(6);
    }
    // Stopped with the service: the port is released (the thread check follows in @AfterEach).
    assertThatExceptionOfType(ConnectException.class).isThrownBy(() -> scrape(client, uri));
  }

  @Test
  void start_metricsPortInUse_throwsAndLeavesNothingRunning() throws IOException {
    try (ServerSocket taken = new ServerSocket(0, 1, LOOPBACK)) {
      assertThatExceptionOfType(BindException.class)
          .isThrownBy(() -> VehicleService.start(listenOnlyWithMetrics(taken.getLocalPort()), out));
    }
  }

  @Test
  void start_portInUse_throwsBindExceptionNamingAddress() throws IOException {
    try (VehicleService first = VehicleService.start(listenOnly(0), out)) {
      assertThatExceptionOfType(BindException.class)
          .isThrownBy(() -> VehicleService.start(listenOnly(first.port()), out))
          .withMessageContaining(":" + first.port());
    }
  }

  private static VehicleService.Options listenOnly(int port) {
    return new VehicleService.Options(LOOPBACK, port, 0, 1, 1, 0, -1);
  }

  private static VehicleService.Options listenOnlyWithMetrics(int metricsPort) {
    return new VehicleService.Options(LOOPBACK, 0, 0, 1, 1, 0, metricsPort);
  }

  /** GETs the metrics page and checks it is Prometheus text. */
  private static String scrape(HttpClient client, URI uri)
      throws IOException, InterruptedException {
    HttpResponse<String> response =
        client.send(
            HttpRequest.newBuilder(uri).timeout(TIMEOUT).build(),
            HttpResponse.BodyHandlers.ofString(UTF_8));
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type"))
        .hasValue("text/plain; version=0.0.4; charset=utf-8");
    return response.body();
  }

  /**
   * The value of one series in a Prometheus text page, e.g. {@code lineserver_lines_total{...}}.
   */
  private static double value(String page, String series) {
    return page.lines()
        .filter(line -> line.startsWith(series + " "))
        .mapToDouble(line -> Double.parseDouble(line.substring(series.length() + 1)))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + series + " in:\n" + page));
  }

  private static List<String> liveThreadNames() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .collect(Collectors.toList());
  }
}
