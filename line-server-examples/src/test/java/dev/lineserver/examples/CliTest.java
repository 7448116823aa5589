package dev.lineserver.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.util.Map;
import java.util.Objects;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Model.OptionSpec;

final class CliTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private <O> Cli.Parsed<O> parse(
      Cli.OptionsCommand<O> command, String prefix, Map<String, String> env, String... args) {
    return Cli.parse(
        command,
        prefix,
        env,
        args,
        new PrintStream(out, true, UTF_8),
        new PrintStream(err, true, UTF_8));
  }

  private VehicleService.Options vehicle(Map<String, String> env, String... args) {
    Cli.Parsed<VehicleService.Options> parsed =
        parse(new VehicleService.Arguments(), VehicleService.ENV_PREFIX, env, args);
    assertThat(parsed.exitCode()).as(err.toString(UTF_8)).isZero();
    return Objects.requireNonNull(parsed.options());
  }

  private VehicleService.Options vehicle(String... args) {
    return vehicle(Map.of(), args);
  }

  /** The first line printed for a bad {@code args}, after checking the exit code and the usage. */
  private String vehicleError(Map<String, String> env, String... args) {
    Cli.Parsed<VehicleService.Options> parsed =
        parse(new VehicleService.Arguments(), VehicleService.ENV_PREFIX, env, args);
    assertThat(parsed.exitCode()).isEqualTo(2);
    assertThat(parsed.options()).isNull();
    String printed = err.toString(UTF_8);
    assertThat(printed).contains("Usage: vehicle-service");
    err.reset();
    return printed.lines().findFirst().orElseThrow();
  }

  private String vehicleError(String... args) {
    return vehicleError(Map.of(), args);
  }

  @Test
  void vehicleService_noArgs_defaults() {
    VehicleService.Options options = vehicle();

    assertThat(options.port()).isEqualTo(9000);
    assertThat(options.bindAddress()).isEqualTo(InetAddress.getLoopbackAddress());
    assertThat(options.simulatedVehicles()).isEqualTo(200);
    assertThat(options.simulatedConnections()).isEqualTo(8);
    assertThat(options.simulatedRate()).isEqualTo(1.0);
    assertThat(options.malformedEvery()).isEqualTo(1000);
    assertThat(options.metricsPort()).isEqualTo(-1);
    assertThat(options.command()).isNull();
  }

  @Test
  void vehicleService_spaceAndEqualsForms_bothRead() {
    VehicleService.Options options = vehicle("--port", "0", "--rate=2.5", "--no-simulate");

    assertThat(options.port()).isZero();
    assertThat(options.simulatedRate()).isEqualTo(2.5);
    assertThat(options.simulatedVehicles()).isZero();
  }

  @Test
  void vehicleService_httpPortOrItsOldNameMetricsPort_read() {
    assertThat(vehicle("--http-port", "9100").metricsPort()).isEqualTo(9100);
    assertThat(vehicle("--metrics-port", "9101").metricsPort()).isEqualTo(9101);
  }

  @Test
  void vehicleService_environment_readUnlessTheCommandLineSaysOtherwise() {
    Map<String, String> env =
        Map.of(
            "VEHICLE_PORT", "9300",
            "VEHICLE_HTTP_PORT", "9301",
            "VEHICLE_NO_SIMULATE", "true",
            "VEHICLE_RATE", "4",
            "VEHICLE_COMMAND", "veh-1=50");

    VehicleService.Options fromEnv = vehicle(env);
    assertThat(fromEnv.port()).isEqualTo(9300);
    assertThat(fromEnv.metricsPort()).isEqualTo(9301);
    assertThat(fromEnv.simulatedVehicles()).isZero();
    assertThat(fromEnv.simulatedRate()).isEqualTo(4.0);
    assertThat(fromEnv.command()).isEqualTo(new VehicleService.ScheduledCommand("veh-1", 50, 3));

    VehicleService.Options overridden = vehicle(env, "--port", "9400", "--http-port=0");
    assertThat(overridden.port()).isEqualTo(9400);
    assertThat(overridden.metricsPort()).isZero();
  }

  @Test
  void vehicleService_outOfRange_printsValueAndRangeAndExits2() {
    assertThat(vehicleError("--port", "70000")).isEqualTo("--port: 70000 (expected: 0..65535)");
    assertThat(vehicleError("--http-port", "-1")).isEqualTo("--http-port: -1 (expected: 0..65535)");
    assertThat(vehicleError("--rate", "0")).isEqualTo("--rate: 0.0 (expected: 0.001..100000)");
    assertThat(vehicleError("--simulate", "0")).isEqualTo("--simulate: 0 (expected: 1..10000000)");
    assertThat(vehicleError(Map.of("VEHICLE_PORT", "65536")))
        .isEqualTo("--port: 65536 (expected: 0..65535)");
  }

  @Test
  void vehicleService_notANumberOrUnknown_printsWhatAndExits2() {
    assertThat(vehicleError("--port", "ninety")).contains("--port").contains("'ninety'");
    assertThat(vehicleError("--prot", "1")).contains("--prot");
    assertThat(vehicleError("--port")).contains("--port");
  }

  @Test
  void vehicleService_simulateAndNoSimulate_exits2() {
    assertThat(vehicleError("--simulate", "5", "--no-simulate"))
        .isEqualTo("--no-simulate: given with --simulate (expected: one)");
  }

  @Test
  void vehicleService_command_parsedWithDefaultDelay() {
    VehicleService.Options options = vehicle("--command", "veh-017=200");

    assertThat(options.command()).isEqualTo(new VehicleService.ScheduledCommand("veh-017", 200, 3));
    assertThat(Objects.requireNonNull(options.command()).text()).isEqualTo("SET interval=200");
    assertThat(vehicle("--command=veh-1=50", "--command-after", "10").command())
        .isEqualTo(new VehicleService.ScheduledCommand("veh-1", 50, 10));
  }

  @Test
  void vehicleService_badCommand_exits2NamingIt() {
    for (String bad : new String[] {"veh-1", "=200", "veh-1=", "veh-1=fast", "veh-1=0", "a b=5"}) {
      assertThat(vehicleError("--command", bad)).as(bad).startsWith("--command: " + bad);
    }
    assertThat(vehicleError("--command-after", "5"))
        .isEqualTo("--command-after: given without --command");
    assertThat(vehicleError("--command", "veh-1=5", "--command-after", "86401"))
        .isEqualTo("--command-after: 86401 (expected: 0..86400)");
  }

  @Test
  void vehicleService_help_listsEveryOptionWithItsVariableAndDefault() {
    Cli.Parsed<VehicleService.Options> parsed =
        parse(
            new VehicleService.Arguments(),
            VehicleService.ENV_PREFIX,
            Map.of("VEHICLE_CONNECTIONS", "3"),
            "--help");

    assertThat(parsed.exitCode()).isZero();
    assertThat(parsed.options()).isNull();
    String help = out.toString(UTF_8);
    assertThat(help)
        .contains("--http-port, --metrics-port=N")
        .contains("env: VEHICLE_PORT")
        .contains("default: 9000")
        // The default shown is the one in effect: the environment's.
        .contains("(env: VEHICLE_CONNECTIONS; default: 3)");
  }

  @Test
  void everyProgram_everyOption_namesItsVariableInItsDescription() {
    record Program(Object command, String prefix) {}
    for (Program program :
        new Program[] {
          new Program(new VehicleService.Arguments(), VehicleService.ENV_PREFIX),
          new Program(new FleetSimulator.Arguments(), FleetSimulator.ENV_PREFIX),
          new Program(new KafkaForwarder.Arguments(), KafkaForwarder.ENV_PREFIX)
        }) {
      for (OptionSpec option :
          Cli.commandLine(program.command(), program.prefix(), Map.of())
              .getCommandSpec()
              .options()) {
        if (!option.usageHelp()) {
          assertThat(String.join(" ", option.description()))
              .as(option.longestName())
              .contains("env: " + Cli.envName(program.prefix(), option));
        }
      }
    }
  }

  @Test
  void fleetSimulator_moreConnectionsThanVehicles_onePerVehicle() {
    Cli.Parsed<FleetSimulator.Options> parsed =
        parse(
            new FleetSimulator.Arguments(),
            FleetSimulator.ENV_PREFIX,
            Map.of("FLEET_SIM_SEED", "7"),
            "--vehicles",
            "3",
            "--connections",
            "8");

    FleetSimulator.Options options = Objects.requireNonNull(parsed.options());
    assertThat(options.effectiveConnections()).isEqualTo(3);
    assertThat(options.durationSeconds()).isZero();
    assertThat(options.seed()).isEqualTo(7);
    assertThat(options.host()).isEqualTo("localhost");
    assertThat(options.port()).isEqualTo(9000);
  }

  @Test
  void fleetSimulator_portZero_exits2() {
    Cli.Parsed<FleetSimulator.Options> parsed =
        parse(new FleetSimulator.Arguments(), FleetSimulator.ENV_PREFIX, Map.of(), "--port", "0");

    assertThat(parsed.exitCode()).isEqualTo(2);
    assertThat(err.toString(UTF_8)).startsWith("--port: 0 (expected: 1..65535)");
  }

  @Test
  void kafkaForwarder_bootstrapFromEnvironment_readElseRequired() {
    Cli.Parsed<KafkaForwarder.Options> missing =
        parse(new KafkaForwarder.Arguments(), KafkaForwarder.ENV_PREFIX, Map.of());
    assertThat(missing.exitCode()).isEqualTo(2);
    assertThat(err.toString(UTF_8)).startsWith("--kafka-bootstrap: missing (expected: host:port)");

    Cli.Parsed<KafkaForwarder.Options> parsed =
        parse(
            new KafkaForwarder.Arguments(),
            KafkaForwarder.ENV_PREFIX,
            Map.of("FORWARDER_KAFKA_BOOTSTRAP", "kafka:9092", "FORWARDER_NO_HEADERS", "true"));
    KafkaForwarder.Options options = Objects.requireNonNull(parsed.options());
    assertThat(options.bootstrapServers()).isEqualTo("kafka:9092");
    assertThat(options.topic()).isEqualTo("vehicle-positions");
    assertThat(options.headers()).isFalse();
    assertThat(options.simulatedVehicles()).isZero();
  }
}
