package dev.lineserver.examples;

import dev.lineserver.ConnectionInfo;
import dev.lineserver.LineServer;
import dev.lineserver.SendQueueFull;
import dev.lineserver.micrometer.LineServerMetrics;
import io.micrometer.core.instrument.Tags;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A vehicle-location service: vehicles (or gateways) connect over TCP and send one line per
 * position, {@code vehicleId,epochMillis,lat,lon,speedKmh,heading}; the service keeps each
 * vehicle's latest position and prints a summary every second. Unless told {@code --no-simulate},
 * it also runs a {@link FleetSimulator} against itself, so starting it shows traffic at once. With
 * {@code --http-port} (or its older name {@code --metrics-port}), it serves on that port the {@link
 * LivePage} at {@code /}, which plots every vehicle live from the {@link EventStream} at {@code
 * /events}, and the server's {@link LineServerMetrics} as Prometheus text at {@code /metrics}.
 *
 * <p>It answers every line on the connection it came from (see {@link VehicleTracker}): {@code ACK
 * <vehicleId> <epochMillis>} or {@code ERR <reason>}; the connection goes on. It sends a vehicle a
 * command with {@link #command}, as a line {@code CMD <vehicleId> <text>} on the connection the
 * vehicle last reported on; the simulator obeys {@code SET interval=<millis>}. {@code --command
 * veh-017=200} sends {@code CMD veh-017 SET interval=200} once, {@code --command-after} seconds
 * after start (3 by default), and prints what became of it; the simulator prints {@code vehicle
 * veh-017: interval 1000 ms -> 200 ms}. A peer that does not read its replies loses replies (the
 * send queue refuses them, {@link SendQueueFull#REFUSE}), not its connection.
 *
 * <pre>
 * java dev.lineserver.examples.VehicleService --port 9000 --simulate 200 --connections 8 \
 *     --http-port 9100 --command veh-017=200
 * </pre>
 */
public final class VehicleService implements AutoCloseable {
  /** Every thread this class starts is named with this prefix. */
  static final String THREAD_PREFIX = "vehicle-service";

  /** The prefix of the environment variables options may come from: {@code VEHICLE_PORT}, ... */
  static final String ENV_PREFIX = "VEHICLE_";

  /** What became of a {@link #command}. */
  enum CommandResult {
    /** Queued on the connection the vehicle last reported on. */
    QUEUED,
    /** Nothing sent: the vehicle never reported a valid position, or its connection closed. */
    NOT_CONNECTED,
    /** Nothing sent: the vehicle's connection has not read what was sent to it before. */
    QUEUE_FULL
  }

  /**
   * A command {@code --command} sends once, {@code afterSeconds} after start: {@code SET
   * interval=<intervalMillis>}.
   */
  record ScheduledCommand(String vehicleId, long intervalMillis, int afterSeconds) {
    ScheduledCommand {
      checkVehicleId(vehicleId);
      if (intervalMillis < 1 || intervalMillis > FleetSimulator.MAX_INTERVAL_MILLIS) {
        throw new IllegalArgumentException(
            "intervalMillis: "
                + intervalMillis
                + " (expected: 1.."
                + FleetSimulator.MAX_INTERVAL_MILLIS
                + ")");
      }
      Cli.checkRange("afterSeconds", afterSeconds, 0, 86_400);
    }

    String text() {
      return "SET interval=" + intervalMillis;
    }

    /** {@code VEHICLE=MILLIS}, as {@code --command} takes it. */
    static ScheduledCommand parse(String text, int afterSeconds) {
      int equals = text.lastIndexOf('=');
      if (equals <= 0) {
        throw new IllegalArgumentException("--command: " + text + " (expected: VEHICLE=MILLIS)");
      }
      long millis;
      try {
        millis = Long.parseLong(text.substring(equals + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "--command: " + text + " (expected: VEHICLE=MILLIS, MILLIS a whole number)", e);
      }
      try {
        return new ScheduledCommand(text.substring(0, equals), millis, afterSeconds);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--command: " + text + ": " + e.getMessage(), e);
      }
    }
  }

  private final VehicleTracker tracker;
  private final LineServer server;
  private final SummaryPrinter summary;
  private final @Nullable FleetSimulator simulator;
  private final @Nullable MetricsEndpoint metrics;
  private final PrintStream out;
  private final CountDownLatch closing = new CountDownLatch(1);
  private @Nullable Thread commandThread;
  private boolean closed;

  /**
   * What to run; see {@link Arguments}.
   *
   * @param simulatedVehicles 0 to only listen
   * @param metricsPort -1 to serve no metrics, 0 for any free port
   * @param command null to send none
   */
  record Options(
      InetAddress bindAddress,
      int port,
      int simulatedVehicles,
      int simulatedConnections,
      double simulatedRate,
      int malformedEvery,
      int metricsPort,
      @Nullable ScheduledCommand command) {

    Options {
      Cli.checkRange("port", port, 0, 65535);
      Cli.checkRange("simulatedVehicles", simulatedVehicles, 0, 10_000_000);
      Cli.checkRange("simulatedConnections", simulatedConnections, 1, 10_000);
      Cli.checkRange("malformedEvery", malformedEvery, 0, Integer.MAX_VALUE);
      Cli.checkRange("metricsPort", metricsPort, -1, 65535);
    }
  }

  /** The command line: picocli fills the fields, {@link #options()} checks them. */
  @Command(
      name = "vehicle-service",
      sortOptions = false,
      usageHelpWidth = 100,
      description = {
        "A vehicle-location service: one line per position over TCP, one ACK or ERR per line.",
        "Every option may also come from the environment variable named after it."
      })
  static final class Arguments implements Cli.OptionsCommand<Options> {
    @Option(
        names = "--port",
        paramLabel = "N",
        defaultValue = "${sys:vehicle.port:-9000}",
        description =
            "port to listen on; 0 picks a free one (env: VEHICLE_PORT, else -Dvehicle.port;"
                + " default: ${DEFAULT-VALUE})")
    int port;

    @Option(
        names = "--bind",
        paramLabel = "ADDRESS",
        description =
            "address to listen on; 0.0.0.0 for every interface (env: VEHICLE_BIND;"
                + " default: the loopback address)")
    @Nullable String bind;

    @Option(
        names = "--simulate",
        paramLabel = "N",
        description =
            "simulate N vehicles against this service (env: VEHICLE_SIMULATE; default: 200)")
    @Nullable Integer simulate;

    @Option(
        names = "--no-simulate",
        description = "only listen (env: VEHICLE_NO_SIMULATE=true; default: ${DEFAULT-VALUE})")
    boolean noSimulate;

    @Option(
        names = "--connections",
        paramLabel = "N",
        defaultValue = "8",
        description =
            "connections the simulation uses (env: VEHICLE_CONNECTIONS; default: ${DEFAULT-VALUE})")
    int connections;

    @Option(
        names = "--rate",
        paramLabel = "R",
        defaultValue = "1",
        description =
            "positions per simulated vehicle per second (env: VEHICLE_RATE;"
                + " default: ${DEFAULT-VALUE})")
    double rate;

    @Option(
        names = "--malformed-every",
        paramLabel = "N",
        defaultValue = "1000",
        description =
            "simulate about 1 malformed line in N; 0 never (env: VEHICLE_MALFORMED_EVERY;"
                + " default: ${DEFAULT-VALUE})")
    int malformedEvery;

    @Option(
        names = {"--http-port", "--metrics-port"},
        paramLabel = "N",
        description =
            "serve the live page at /, its events at /events and Prometheus text at /metrics on"
                + " port N of the --bind address; 0 picks a free one (env: VEHICLE_HTTP_PORT;"
                + " default: off)")
    @Nullable Integer httpPort;

    @Option(
        names = "--command",
        paramLabel = "VEH=MS",
        description =
            "send CMD VEH SET interval=MS once, telling vehicle VEH to report every MS ms; prints"
                + " what became of it (env: VEHICLE_COMMAND; default: none)")
    @Nullable String command;

    @Option(
        names = "--command-after",
        paramLabel = "S",
        description =
            "send --command S seconds after start (env: VEHICLE_COMMAND_AFTER; default: 3)")
    @Nullable Integer commandAfter;

    @Option(names = "--help", usageHelp = true, description = "print this and exit")
    boolean help;

    @Override
    public Options options() {
      if (noSimulate && simulate != null) {
        throw new IllegalArgumentException("--no-simulate: given with --simulate (expected: one)");
      }
      if (command == null && commandAfter != null) {
        throw new IllegalArgumentException("--command-after: given without --command");
      }
      int after =
          Cli.checkRange("--command-after", commandAfter == null ? 3 : commandAfter, 0, 86_400);
      return new Options(
          bindAddress(bind),
          Cli.checkRange("--port", port, 0, 65535),
          noSimulate
              ? 0
              : Cli.checkRange("--simulate", simulate == null ? 200 : simulate, 1, 10_000_000),
          Cli.checkRange("--connections", connections, 1, 10_000),
          Cli.checkRange("--rate", rate, 0.001, 100_000),
          Cli.checkRange("--malformed-every", malformedEvery, 0, Integer.MAX_VALUE),
          httpPort == null ? -1 : Cli.checkRange("--http-port", httpPort, 0, 65535),
          command == null ? null : ScheduledCommand.parse(command, after));
    }

    private static InetAddress bindAddress(@Nullable String text) {
      if (text == null) {
        return InetAddress.getLoopbackAddress();
      }
      try {
        return InetAddress.getByName(text);
      } catch (UnknownHostException e) {
        throw new IllegalArgumentException("--bind: " + text + " (expected: a local address)", e);
      }
    }
  }

  private VehicleService(
      VehicleTracker tracker,
      LineServer server,
      SummaryPrinter summary,
      @Nullable FleetSimulator simulator,
      @Nullable MetricsEndpoint metrics,
      PrintStream out) {
    this.tracker = tracker;
    this.server = server;
    this.summary = summary;
    this.simulator = simulator;
    this.metrics = metrics;
    this.out = out;
  }

  /**
   * Starts the server, the metrics endpoint and the simulation if asked for, the summary, and the
   * timer of {@code --command}.
   *
   * @param out where the summary lines go
   * @throws IOException if a port cannot be bound or the simulation cannot connect
   */
  static VehicleService start(Options options, PrintStream out) throws IOException {
    VehicleTracker tracker = new VehicleTracker();
    LineServer server =
        LineServer.builder()
            .name("vehicles")
            .bindAddress(options.bindAddress())
            .port(options.port())
            // A position line is under 100 bytes; anything much longer is garbage, not worth
            // buffering. The listener counts it as rejected.
            .maxLineLength(1024)
            // Each malformed line is a sink failure, and the default intensity (3 within 5 s)
            // closes a connection at its fourth bad line. A gateway relaying many vehicles can
            // send a few bad lines a second and should lose only those lines, not its connection;
            // 100 within 1 s still closes a peer that sends nothing but garbage.
            .restartIntensity(100, Duration.ofSeconds(1))
            // A device that never reads its ACKs (a plain tracker, nc) keeps reporting: past the
            // default 64 KiB queued, its replies are refused, and counted, not its connection.
            .sendQueueFull(SendQueueFull.REFUSE)
            .shutdownTimeout(Duration.ofSeconds(5))
            .connectionSink(tracker)
            .listener(tracker.listener())
            .start();
    MetricsEndpoint metrics = null;
    FleetSimulator simulator = null;
    SummaryPrinter summary = null;
    try {
      if (options.metricsPort() >= 0) {
        metrics =
            MetricsEndpoint.start(
                options.bindAddress(),
                options.metricsPort(),
                new LineServerMetrics(server, Tags.of("server", "vehicles")));
        metrics.context(HealthHandler.PATH, new HealthHandler(server::health));
        metrics.context(LivePage.PATH, new LivePage());
        metrics.context(EventStream.PATH, new EventStream(tracker, Duration.ofSeconds(1)));
      }
      if (options.simulatedVehicles() > 0) {
        simulator = FleetSimulator.start(simulation(options, server.port()), out);
      }
      summary = SummaryPrinter.start(tracker, simulator, out, Duration.ofSeconds(1));
      VehicleService service =
          new VehicleService(tracker, server, summary, simulator, metrics, out);
      ScheduledCommand command = options.command();
      if (command != null) {
        service.schedule(command);
      }
      return service;
    } catch (IOException | RuntimeException | Error e) {
      if (summary != null) {
        summary.close();
      }
      if (simulator != null) {
        simulator.close();
      }
      if (metrics != null) {
        metrics.close();
      }
      server.close();
      throw e;
    }
  }

  /** Starts the thread that sends {@code command} once, unless the service closes first. */
  private synchronized void schedule(ScheduledCommand command) {
    Thread thread =
        new Thread(
            () -> {
              try {
                if (closing.await(command.afterSeconds(), TimeUnit.SECONDS)) {
                  return;
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
              }
              CommandResult result = command(command.vehicleId(), command.text());
              out.printf(
                  Locale.ROOT,
                  "command to %s: %s -> %s%n",
                  command.vehicleId(),
                  command.text(),
                  result);
            },
            THREAD_PREFIX + "-command");
    thread.setDaemon(true);
    thread.start();
    commandThread = thread;
  }

  /**
   * Sends {@code text} to {@code vehicleId}, as the line {@code CMD <vehicleId> <text>}, on the
   * connection it last reported a valid position on. Thread-safe; never blocks.
   *
   * @throws IllegalArgumentException if {@code vehicleId} is empty or holds a space or a control
   *     character, or {@code text} is empty or holds a control character (it would end the line)
   */
  CommandResult command(String vehicleId, String text) {
    checkVehicleId(vehicleId);
    if (text.isEmpty() || text.chars().anyMatch(Character::isISOControl)) {
      throw new IllegalArgumentException(
          "text: \"" + text + "\" (expected: not empty, no control characters)");
    }
    Long id = tracker.connectionOf(vehicleId);
    ConnectionInfo connection = id == null ? null : server.connection(id);
    if (connection == null) {
      return CommandResult.NOT_CONNECTED;
    }
    return switch (connection.sendLine("CMD " + vehicleId + " " + text)) {
      case QUEUED -> CommandResult.QUEUED;
      case FULL -> CommandResult.QUEUE_FULL;
      case CLOSED -> CommandResult.NOT_CONNECTED;
    };
  }

  private static void checkVehicleId(String vehicleId) {
    if (vehicleId.isEmpty()
        || vehicleId.chars().anyMatch(c -> c == ' ' || c == ',' || Character.isISOControl(c))) {
      throw new IllegalArgumentException(
          "vehicleId: \""
              + vehicleId
              + "\" (expected: not empty, no space, comma or control character)");
    }
  }

  /** A simulation that connects to this service, wherever it listens. */
  private static FleetSimulator.Options simulation(Options options, int port) {
    InetAddress bound = options.bindAddress();
    InetAddress target = bound.isAnyLocalAddress() ? InetAddress.getLoopbackAddress() : bound;
    return new FleetSimulator.Options(
        target.getHostAddress(),
        port,
        options.simulatedVehicles(),
        options.simulatedConnections(),
        options.simulatedRate(),
        options.malformedEvery(),
        0,
        System.nanoTime());
  }

  int port() {
    return server.port();
  }

  VehicleTracker tracker() {
    return tracker;
  }

  @Nullable FleetSimulator simulator() {
    return simulator;
  }

  /** Where the metrics are served, or {@code null} without {@code --metrics-port}. */
  @Nullable String metricsUrl() {
    return metrics == null ? null : metrics.url();
  }

  /** Where the live page is served, or {@code null} without {@code --http-port}. */
  @Nullable String pageUrl() {
    return metrics == null ? null : metrics.url(LivePage.PATH);
  }

  /**
   * Stops the timer of {@code --command}, the simulation, then the server, then the summary and the
   * metrics endpoint, and prints the totals. The simulation goes first: the server's close waits
   * for connections to go quiet, and simulated ones never would. Idempotent; a second caller waits
   * for the first.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    closing.countDown();
    if (commandThread != null) {
      try {
        commandThread.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (simulator != null) {
      simulator.close();
    }
    server.close();
    summary.close();
    if (metrics != null) {
      metrics.close();
    }
    out.printf(
        Locale.ROOT,
        "stopped: lines=%d vehicles=%d rejected=%d replies refused=%d%n",
        tracker.lines(),
        tracker.vehicles(),
        tracker.rejected(),
        tracker.repliesRefused());
    if (simulator != null) {
      out.println("simulator: " + simulator.totals());
    }
  }

  /** Runs the service until Ctrl-C; {@code --help} lists the options. */
  public static void main(String[] args) {
    Options options = Cli.optionsOrExit(new Arguments(), ENV_PREFIX, args);
    if (options == null) {
      return;
    }
    VehicleService service;
    try {
      service = start(options, System.out);
    } catch (IOException e) {
      System.err.println("cannot start: " + e.getMessage());
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(service::close, THREAD_PREFIX + "-shutdown"));
    System.out.printf(
        Locale.ROOT,
        "listening on %s%s; Ctrl-C to stop%n",
        service.server.localAddress(),
        options.simulatedVehicles() == 0
            ? ""
            : String.format(
                Locale.ROOT,
                ", simulating %d vehicles over %d connections",
                options.simulatedVehicles(),
                Math.min(options.simulatedConnections(), options.simulatedVehicles())));
    String metricsUrl = service.metricsUrl();
    if (metricsUrl != null) {
      System.out.println("live page at " + service.pageUrl() + ", metrics at " + metricsUrl);
    }
    ScheduledCommand command = options.command();
    if (command != null) {
      System.out.printf(
          Locale.ROOT,
          "sending CMD %s %s in %d s%n",
          command.vehicleId(),
          command.text(),
          command.afterSeconds());
    }
    // main returns; the server's threads are not daemons and keep the service running.
  }
}
