package dev.lineserver.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class VehicleServiceTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  private static final long SEED = 20240607L;

  // Series of the Prometheus page, as scraped.
  private static final String LINES =
      "lineserver_lines_total{outcome=\"delivered\",server=\"vehicles\"}";
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
  void start_simulatorOverTwoConnections_tracksVehiclesCountsRejectsAndAnswersEachLine()
      throws IOException {
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
      // Each simulated connection read the replies up to the server's end of stream.
      assertThat(simulator.acks()).isEqualTo(simulator.sent() - simulator.malformedSent());
      assertThat(simulator.errors()).isEqualTo(simulator.malformedSent());
      assertThat(simulator.repliesIgnored()).isZero();
      assertThat(tracker.repliesRefused()).isZero();
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
    VehicleService.Options options =
        new VehicleService.Options(LOOPBACK, 0, 20, 2, 10, 1000, -1, null);
    try (VehicleService service = VehicleService.start(options, out)) {
      assertThat(service.simulator()).isNotNull();

      await().atMost(TIMEOUT).until(() -> output.toString(UTF_8).contains("vehicles=20 "));
    }
    assertThat(output.toString(UTF_8))
        .containsPattern(
            "lines/s=\\d+ vehicles=\\d+ rejected=\\d+ connections=\\d+"
                + " sim: acks=\\d+ errors=\\d+ commands=\\d+")
        .contains("stopped: lines=")
        .contains("simulator: sent ");
  }

  @Test
  void start_positionsAndMalformedLines_answersEachInOrderAndKeepsTheConnection()
      throws IOException {
    try (VehicleService service = VehicleService.start(listenOnly(0), out);
        Socket socket = connect(service)) {
      BufferedReader replies = replies(socket);
      send(
          socket,
          "bus-1,1000,52.5,13.4,30,90\n"
              + "bus-2,1000,52.5,13.4,30,90\n"
              + "bus-1,1500,95,13.4,30,90\n"
              + "garbage\n"
              + "x".repeat(2000)
              + "\n"
              + "bus-1,2000,52.5,13.4,30,90\r\n");

      assertThat(readLines(replies, 6))
          .containsExactly(
              "ACK bus-1 1000",
              "ACK bus-2 1000",
              "ERR lat: 95 (expected: -90..90)",
              "ERR fields: 1 in \"garbage\""
                  + " (expected: 6, vehicleId,epochMillis,lat,lon,speedKmh,heading)",
              "ERR line too long: 2000 bytes",
              "ACK bus-1 2000");

      send(socket, "bus-2,3000,52.5,13.4,30,90\n");
      assertThat(replies.readLine()).isEqualTo("ACK bus-2 3000");
      assertThat(service.tracker().rejected()).isEqualTo(3);
      assertThat(service.tracker().openConnections()).isEqualTo(1);
    }
  }

  @Test
  void start_nothingButGarbage_answersEachUntilTheRestartLimitClosesIt() throws IOException {
    try (VehicleService service = VehicleService.start(listenOnly(0), out);
        Socket socket = connect(service)) {
      BufferedReader replies = replies(socket);
      // The service's restart intensity is 100 failures within 1 s: the 101st closes it.
      send(socket, "garbage\n".repeat(150));

      List<String> lines = new ArrayList<>();
      for (String line = replies.readLine(); line != null; line = replies.readLine()) {
        lines.add(line);
      }
      assertThat(lines).hasSize(101).allMatch(line -> line.startsWith("ERR fields: 1 in"));
    }
  }

  @Test
  void start_peerThatNeverReads_keepsItsConnectionAndLosesOnlyReplies() throws IOException {
    int lines = 300_000; // about 8 MB of ACKs: more than the socket buffers and the send queue
    try (VehicleService service = VehicleService.start(listenOnly(0), out);
        Socket socket = new Socket()) {
      socket.setReceiveBufferSize(4096);
      socket.connect(new InetSocketAddress(LOOPBACK, service.port()));
      VehicleTracker tracker = service.tracker();
      byte[] batch = "bus-1,1000,52.5,13.4,30,90\n".repeat(1000).getBytes(UTF_8);
      for (int i = 0; i < lines / 1000; i++) {
        socket.getOutputStream().write(batch);
      }
      socket.getOutputStream().flush();

      await().atMost(TIMEOUT).until(() -> tracker.lines() == lines);
      assertThat(tracker.repliesRefused()).isPositive();
      assertThat(tracker.openConnections()).isEqualTo(1);
      // Still routed; whether the queue has room again depends on how far the kernel drained it.
      assertThat(service.command("bus-1", "SET interval=200"))
          .isIn(VehicleService.CommandResult.QUEUE_FULL, VehicleService.CommandResult.QUEUED);
    }
  }

  @Test
  void command_toVehicleOnOneOfTwoConnections_reachesThatConnectionOnly() throws IOException {
    try (VehicleService service = VehicleService.start(listenOnly(0), out);
        Socket first = connect(service);
        Socket second = connect(service)) {
      BufferedReader firstReplies = replies(first);
      BufferedReader secondReplies = replies(second);
      send(first, "bus-1,1000,52.5,13.4,30,90\n");
      send(second, "bus-2,1000,52.5,13.4,30,90\n");
      // The ACK is sent after the route is recorded.
      assertThat(firstReplies.readLine()).isEqualTo("ACK bus-1 1000");
      assertThat(secondReplies.readLine()).isEqualTo("ACK bus-2 1000");

      assertThat(service.command("bus-2", "SET interval=200"))
          .isEqualTo(VehicleService.CommandResult.QUEUED);
      assertThat(service.command("bus-1", "SET interval=300"))
          .isEqualTo(VehicleService.CommandResult.QUEUED);

      assertThat(secondReplies.readLine()).isEqualTo("CMD bus-2 SET interval=200");
      assertThat(firstReplies.readLine()).isEqualTo("CMD bus-1 SET interval=300");
      // Neither connection got the other's command: the next line on each answers a new position.
      send(first, "bus-1,2000,52.5,13.4,30,90\n");
      send(second, "bus-2,2000,52.5,13.4,30,90\n");
      assertThat(firstReplies.readLine()).isEqualTo("ACK bus-1 2000");
      assertThat(secondReplies.readLine()).isEqualTo("ACK bus-2 2000");
    }
  }

  @Test
  void command_unknownOrClosedVehicle_notConnected() throws IOException {
    try (VehicleService service = VehicleService.start(listenOnly(0), out)) {
      assertThat(service.command("bus-9", "SET interval=200"))
          .isEqualTo(VehicleService.CommandResult.NOT_CONNECTED);

      try (Socket socket = connect(service)) {
        send(socket, "bus-1,1000,52.5,13.4,30,90\n");
        assertThat(replies(socket).readLine()).isEqualTo("ACK bus-1 1000");
        assertThat(service.tracker().connectionOf("bus-1")).isNotNull();
      }
      // The route is forgotten before the count of open connections drops.
      await().atMost(TIMEOUT).until(() -> service.tracker().openConnections() == 0);

      assertThat(service.command("bus-1", "SET interval=200"))
          .isEqualTo(VehicleService.CommandResult.NOT_CONNECTED);
    }
  }

  @Test
  void command_textOrVehicleThatWouldBreakTheLine_throws() throws IOException {
    try (VehicleService service = VehicleService.start(listenOnly(0), out)) {
      assertThatIllegalArgumentException()
          .isThrownBy(() -> service.command("bus-1", "SET interval=200\nCMD bus-2 x"))
          .withMessageStartingWith("text: ");
      assertThatIllegalArgumentException()
          .isThrownBy(() -> service.command("bus 1", "SET interval=200"))
          .withMessageStartingWith("vehicleId: ");
      assertThatIllegalArgumentException()
          .isThrownBy(() -> service.command("bus-1", ""))
          .withMessageStartingWith("text: ");
    }
  }

  @Test
  void command_toSimulatedVehicle_changesOnlyItsInterval() throws IOException {
    try (VehicleService service = VehicleService.start(listenOnly(0), out)) {
      FleetSimulator simulator =
          FleetSimulator.start(
              new FleetSimulator.Options(
                  LOOPBACK.getHostAddress(), service.port(), 4, 2, 10, 0, 0, SEED),
              out);
      try {
        await().atMost(TIMEOUT).until(() -> service.tracker().connectionOf("veh-3") != null);

        assertThat(service.command("veh-3", "SET interval=250"))
            .isEqualTo(VehicleService.CommandResult.QUEUED);

        await().atMost(TIMEOUT).until(() -> simulator.commandsObeyed() == 1);
        assertThat(simulator.intervalMillis("veh-3")).isEqualTo(250.0);
        assertThat(simulator.intervalMillis("veh-1")).isEqualTo(100.0);
        assertThat(output.toString(UTF_8)).contains("vehicle veh-3: interval 100 ms -> 250 ms");
      } finally {
        simulator.close();
      }
      assertThat(simulator.repliesIgnored()).isZero();
    }
  }

  @Test
  void start_withScheduledCommand_sendsItOnceAndPrintsWhatBecameOfIt() throws IOException {
    // 100 reports a second: every vehicle has reported long before the command is due, 1 s in.
    VehicleService.Options options =
        new VehicleService.Options(
            LOOPBACK, 0, 4, 2, 100, 0, -1, new VehicleService.ScheduledCommand("veh-2", 500, 1));
    try (VehicleService service = VehicleService.start(options, out)) {
      FleetSimulator simulator = requireNonNull(service.simulator());

      await().atMost(TIMEOUT).until(() -> simulator.commandsObeyed() == 1);
      assertThat(simulator.intervalMillis("veh-2")).isEqualTo(500.0);
      await()
          .atMost(TIMEOUT)
          .until(() -> output.toString(UTF_8).contains("command to veh-2: SET interval=500 -> "));
    }
    assertThat(output.toString(UTF_8))
        .contains("command to veh-2: SET interval=500 -> QUEUED")
        .contains("vehicle veh-2: interval 10 ms -> 500 ms");
  }

  @Test
  void close_beforeScheduledCommandIsDue_endsItsThreadWithoutSending() throws IOException {
    VehicleService.Options options =
        new VehicleService.Options(
            LOOPBACK, 0, 0, 1, 1, 0, -1, new VehicleService.ScheduledCommand("veh-2", 500, 3600));
    VehicleService service = VehicleService.start(options, out);
    try {
      assertThat(liveThreadNames()).contains(VehicleService.THREAD_PREFIX + "-command");
    } finally {
      service.close();
    }
    assertThat(output.toString(UTF_8)).doesNotContain("command to");
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

  private static Socket connect(VehicleService service) throws IOException {
    Socket socket = new Socket(LOOPBACK, service.port());
    socket.setSoTimeout((int) TIMEOUT.toMillis());
    return socket;
  }

  private static BufferedReader replies(Socket socket) throws IOException {
    return new BufferedReader(new InputStreamReader(socket.getInputStream(), UTF_8));
  }

  private static void send(Socket socket, String text) throws IOException {
    socket.getOutputStream().write(text.getBytes(UTF_8));
    socket.getOutputStream().flush();
  }

  private static List<String> readLines(BufferedReader reader, int count) throws IOException {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      lines.add(reader.readLine());
    }
    return lines;
  }

  private static VehicleService.Options listenOnly(int port) {
    return new VehicleService.Options(LOOPBACK, port, 0, 1, 1, 0, -1, null);
  }

  private static VehicleService.Options listenOnlyWithMetrics(int metricsPort) {
    return new VehicleService.Options(LOOPBACK, 0, 0, 1, 1, 0, metricsPort, null);
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
