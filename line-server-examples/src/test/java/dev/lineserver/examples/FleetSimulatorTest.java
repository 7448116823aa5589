package dev.lineserver.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/** The simulator against a test peer that plays the server: a plain {@link ServerSocket}. */
final class FleetSimulatorTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  private static final long SEED = 20261202L;

  private final ByteArrayOutputStream output = new ByteArrayOutputStream();
  private final PrintStream notices = new PrintStream(output, true, UTF_8);

  @Test
  void replies_acksErrorsCommandsAndGarbage_countedAndOnlyTheNamedVehicleSlowsDown()
      throws IOException {
    try (ServerSocket server = new ServerSocket(0, 50, LOOPBACK)) {
      // Two vehicles on one connection, 100 reports a second each, nothing malformed.
      FleetSimulator simulator =
          FleetSimulator.start(
              new FleetSimulator.Options(
                  LOOPBACK.getHostAddress(), server.getLocalPort(), 2, 1, 100, 0, 0, SEED),
              notices);
      try (Socket peer = server.accept()) {
        peer.setSoTimeout((int) TIMEOUT.toMillis());
        BufferedReader positions =
            new BufferedReader(new InputStreamReader(peer.getInputStream(), UTF_8));
        List<String> read = new ArrayList<>();
        read.add(positions.readLine());
        OutputStream replies = peer.getOutputStream();
        replies.write(
            ("ACK veh-1 1\r\n"
                    + "ACK veh-2 2\n"
                    + "ERR lat: 95 (expected: -90..90)\n"
                    + "HELLO\n"
                    + "x".repeat(FleetSimulator.MAX_REPLY_LENGTH + 1)
                    + "\n"
                    + "CMD veh-9 SET interval=40\n"
                    + "CMD veh-2 SET interval=0\n"
                    + "CMD veh-2 SET speed=40\n"
                    + "CMD veh-2 SET interval=40\n")
                .getBytes(UTF_8));
        replies.flush();

        await().atMost(TIMEOUT).until(() -> simulator.commandsObeyed() == 1);
        assertThat(simulator.intervalMillis("veh-2")).isEqualTo(40.0);
        assertThat(simulator.intervalMillis("veh-1")).isEqualTo(10.0);
        assertThat(simulator.intervalMillis("veh-9")).isNull();
        await().atMost(TIMEOUT).until(() -> simulator.repliesIgnored() == 5);
        assertThat(simulator.acks()).isEqualTo(2);
        assertThat(simulator.errors()).isEqualTo(1);
        assertThat(output.toString(UTF_8))
            .contains("vehicle veh-2: interval 10 ms -> 40 ms")
            .contains("ignored: CMD veh-9 SET interval=40")
            .contains("ignored: CMD veh-2 SET interval=0")
            .doesNotContain("veh-1: interval");

        // Skip what was sent before the change; of the next 100 reports, about 4 in 5 are veh-1's
        // (100/s against 25/s). The order of reports follows their schedule, not the clock.
        for (long sentBefore = simulator.sent(); read.size() < sentBefore; ) {
          read.add(positions.readLine());
        }
        int veh2 = 0;
        for (int i = 0; i < 100; i++) {
          String line = positions.readLine();
          read.add(line);
          if (PositionParser.parse(line).vehicleId().equals("veh-2")) {
            veh2++;
          }
        }
        assertThat(veh2).as("seed %d", SEED).isBetween(15, 25);

        // The simulator reads replies until the server's side ends; it then ends too.
        peer.shutdownOutput();
        simulator.close();
        for (String line = positions.readLine(); line != null; line = positions.readLine()) {
          read.add(line);
        }
        assertThat(read).hasSize((int) simulator.sent()).allSatisfy(PositionParser::parse);
      } finally {
        simulator.close();
      }
    }
  }

  @Test
  void replyReader_crlfLongLineAndPartialEnd_linesWithoutTerminatorsLongOneSkipped()
      throws IOException {
    LongAdder skipped = new LongAdder();
    String input =
        "ACK a 1\r\n" + "y".repeat(FleetSimulator.MAX_REPLY_LENGTH + 10) + "\n\nERR b\npartial";
    FleetSimulator.ReplyReader reader =
        new FleetSimulator.ReplyReader(new ByteArrayInputStream(input.getBytes(UTF_8)), skipped);

    List<String> lines = new ArrayList<>();
    for (String line = reader.readLine(); line != null; line = reader.readLine()) {
      lines.add(line);
    }

    assertThat(lines).containsExactly("ACK a 1", "", "ERR b");
    assertThat(skipped.sum()).isEqualTo(1);
    assertThat(reader.readLine()).isNull();
  }

  @Test
  void replyReader_lineOfExactlyTheLimit_isKept() throws IOException {
    String line = "z".repeat(FleetSimulator.MAX_REPLY_LENGTH);
    FleetSimulator.ReplyReader reader =
        new FleetSimulator.ReplyReader(
            new ByteArrayInputStream((line + "\n").getBytes(UTF_8)), new LongAdder());

    assertThat(reader.readLine()).isEqualTo(line);
  }

  @Test
  void parseSetInterval_validAndInvalid_millisOrMinusOne() {
    assertThat(FleetSimulator.parseSetInterval("SET interval=200")).isEqualTo(200);
    assertThat(FleetSimulator.parseSetInterval("SET interval=86400000")).isEqualTo(86_400_000);
    for (String bad :
        List.of(
            "SET interval=",
            "SET interval=0",
            "SET interval=86400001",
            "SET interval=-5",
            "SET interval=+5",
            "SET interval=1e3",
            "SET interval=200 ",
            "SET interval=99999999999999999999",
            "set interval=200",
            "SET speed=200")) {
      assertThat(FleetSimulator.parseSetInterval(bad)).as(bad).isEqualTo(-1);
    }
  }

  @Test
  void formatMillis_wholeAndFractional() {
    assertThat(FleetSimulator.formatMillis(1_000_000_000L)).isEqualTo("1000");
    assertThat(FleetSimulator.formatMillis(333_333_333L)).isEqualTo("333.333");
  }
}
