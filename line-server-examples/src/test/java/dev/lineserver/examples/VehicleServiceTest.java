package dev.lineserver.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class VehicleServiceTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  private static final long SEED = 20240607L;

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
    VehicleService.Options options = new VehicleService.Options(LOOPBACK, 0, 20, 2, 10, 1000);
    try (VehicleService service = VehicleService.start(options, out)) {
      assertThat(service.simulator()).isNotNull();

      await().atMost(TIMEOUT).until(() -> output.toString(UTF_8).contains("vehicles=20 "));
    }
    assertThat(output.toString(UTF_8))
        .containsPattern("lines/s=\\d+ vehicles=\\d+ rejected=\\d+ connections=\\d+")
        .contains("stopped: lines=");
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
    return new VehicleService.Options(LOOPBACK, port, 0, 1, 1, 0);
  }

  private static List<String> liveThreadNames() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .collect(Collectors.toList());
  }
}
