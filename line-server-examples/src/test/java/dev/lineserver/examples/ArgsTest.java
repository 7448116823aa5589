package dev.lineserver.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.net.InetAddress;
import java.util.Set;
import org.junit.jupiter.api.Test;

final class ArgsTest {

  @Test
  void parse_spaceAndEqualsForms_bothRead() {
    Args args =
        Args.parse(
            new String[] {"--port", "0", "--rate=2.5", "--quiet"},
            Set.of("--port", "--rate"),
            Set.of("--quiet"));

    assertThat(args.integer("--port", 9000, 0, 65535)).isZero();
    assertThat(args.decimal("--rate", 1, 0, 10)).isEqualTo(2.5);
    assertThat(args.flag("--quiet")).isTrue();
    assertThat(args.string("--host", "localhost")).isEqualTo("localhost");
  }

  @Test
  void parse_unknownOption_throwsNamingIt() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> Args.parse(new String[] {"--prot", "1"}, Set.of("--port"), Set.of()))
        .withMessage("unknown option: --prot");
  }

  @Test
  void parse_missingValue_throws() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> Args.parse(new String[] {"--port"}, Set.of("--port"), Set.of()))
        .withMessage("--port: no value");
  }

  @Test
  void integer_outOfRange_throwsNamingValueAndRange() {
    Args args = Args.parse(new String[] {"--port", "70000"}, Set.of("--port"), Set.of());

    assertThatIllegalArgumentException()
        .isThrownBy(() -> args.integer("--port", 9000, 0, 65535))
        .withMessage("--port: 70000 (expected: 0..65535)");
  }

  @Test
  void vehicleServiceOptions_noArgs_defaults() {
    VehicleService.Options options = VehicleService.Options.parse(new String[0]);

    assertThat(options.port()).isEqualTo(9000);
    assertThat(options.bindAddress()).isEqualTo(InetAddress.getLoopbackAddress());
    assertThat(options.simulatedVehicles()).isEqualTo(200);
    assertThat(options.simulatedConnections()).isEqualTo(8);
    assertThat(options.metricsPort()).isEqualTo(-1);
  }

  @Test
  void vehicleServiceOptions_metricsPort_read() {
    VehicleService.Options options =
        VehicleService.Options.parse(new String[] {"--metrics-port", "9100"});

    assertThat(options.metricsPort()).isEqualTo(9100);
  }

  @Test
  void vehicleServiceOptions_metricsPortOutOfRange_throws() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> VehicleService.Options.parse(new String[] {"--metrics-port", "-1"}))
        .withMessage("--metrics-port: -1 (expected: 0..65535)");
  }

  @Test
  void vehicleServiceOptions_noSimulate_simulatesNone() {
    VehicleService.Options options =
        VehicleService.Options.parse(new String[] {"--port", "0", "--no-simulate"});

    assertThat(options.port()).isZero();
    assertThat(options.simulatedVehicles()).isZero();
  }

  @Test
  void vehicleServiceOptions_simulateAndNoSimulate_throws() {
    assertThatIllegalArgumentException()
        .isThrownBy(
            () -> VehicleService.Options.parse(new String[] {"--simulate", "5", "--no-simulate"}))
        .withMessageStartingWith("--no-simulate");
  }

  @Test
  void fleetSimulatorOptions_moreConnectionsThanVehicles_onePerVehicle() {
    FleetSimulator.Options options =
        FleetSimulator.Options.parse(
            new String[] {"--vehicles", "3", "--connections", "8", "--seed", "1"});

    assertThat(options.effectiveConnections()).isEqualTo(3);
    assertThat(options.durationSeconds()).isZero();
  }

  @Test
  void vehicleServiceOptions_command_parsedWithDefaultDelay() {
    VehicleService.Options options =
        VehicleService.Options.parse(new String[] {"--command", "veh-017=200"});

    assertThat(options.command()).isEqualTo(new VehicleService.ScheduledCommand("veh-017", 200, 3));
    assertThat(options.command().text()).isEqualTo("SET interval=200");
  }

  @Test
  void vehicleServiceOptions_commandAfter_parsed() {
    VehicleService.Options options =
        VehicleService.Options.parse(new String[] {"--command=veh-1=50", "--command-after", "10"});

    assertThat(options.command()).isEqualTo(new VehicleService.ScheduledCommand("veh-1", 50, 10));
    assertThat(VehicleService.Options.parse(new String[0]).command()).isNull();
  }

  @Test
  void vehicleServiceOptions_badCommand_throwsNamingIt() {
    for (String bad : new String[] {"veh-1", "=200", "veh-1=", "veh-1=fast", "veh-1=0", "a b=5"}) {
      assertThatIllegalArgumentException()
          .as(bad)
          .isThrownBy(() -> VehicleService.Options.parse(new String[] {"--command", bad}))
          .withMessageStartingWith("--command: " + bad);
    }
    assertThatIllegalArgumentException()
        .isThrownBy(() -> VehicleService.Options.parse(new String[] {"--command-after", "5"}))
        .withMessageStartingWith("--command-after: given without --command");
  }
}
