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
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A vehicle-location service: vehicles (or gateways) connect over TCP and send one line per
 * position, {@code vehicleId,epochMillis,lat,lon,speedKmh,heading}; the service keeps each
 * vehicle's latest position and prints a summary every second. Unless told {@code --no-simulate},
 * it also runs a {@link FleetSimulator} against itself, so starting it shows traffic at once. With
 * {@code --metrics-port}, it serves the server's {@link LineServerMetrics} as Prometheus text at
 * {@code /metrics}.
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
 *     --metrics-port 9100 --command veh-017=200
 * </pre>
 */
public final class VehicleService implements AutoCloseable {
  /** Every thread this class starts is named with this prefix. */
  static final String THREAD_PREFIX = "vehicle-service";

  static final String USAGE =
      """
      usage: VehicleService [options]
        --port N               port to listen on; 0 picks a free one \
      (default: -Dvehicle.port, else 9000)
        --bind ADDRESS         address to listen on (default: the loopback address; \
      0.0.0.0 for every interface)
        --simulate N           simulate N vehicles against this service (default: 200)
        --no-simulate          only listen
        --connections N        connections the simulation uses (default: 8)
        --rate R               positions per simulated vehicle per second (default: 1)
        --malformed-every N    simulate about 1 malformed line in N; 0 never (default: 1000)
        --metrics-port N       serve Prometheus text at /metrics on port N of the --bind \
      address; 0 picks a free one (default: off)
        --command VEH=MS       send CMD VEH SET interval=MS once, telling vehicle VEH to report \
      every MS ms; prints what became of it (default: none)
        --command-after S      send --command S seconds after start (default: 3)""";

  private static final int DEFAULT_PORT = 9000;

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
      Args.checkRange("afterSeconds", afterSeconds, 0, 86_400);
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
   * What to run; see {@link #USAGE}.
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
      Args.checkRange("port", port, 0, 65535);
      Args.checkRange("simulatedVehicles", simulatedVehicles, 0, 10_000_000);
      Args.checkRange("simulatedConnections", simulatedConnections, 1, 10_000);
      Args.checkRange("malformedEvery", malformedEvery, 0, Integer.MAX_VALUE);
      Args.checkRange("metricsPort", metricsPort, -1, 65535);
    }

    static Options parse(String[] args) {
      Args parsed =
          Args.parse(
              args,
              Set.of(
                  "--port",
                  "--bind",
                  "--simulate",
                  "--connections",
                  "--rate",
                  "--malformed-every",
                  "--metrics-port",
                  "--command",
                  "--command-after"),
              Set.of("--no-simulate"));
      if (parsed.flag("--no-simulate") && parsed.string("--simulate") != null) {
        throw new IllegalArgumentException("--no-simulate: given with --simulate (expected: one)");
      }
      String command = parsed.string("--command");
      int commandAfter = parsed.integer("--command-after", 3, 0, 86_400);
      if (command == null && parsed.string("--command-after") != null) {
        throw new IllegalArgumentException("--command-after: given without --command");
      }
      return new Options(
          bindAddress(parsed.string("--bind")),
          parsed.integer("--port", defaultPort(), 0, 65535),
          parsed.flag("--no-simulate") ? 0 : parsed.integer("--simulate", 200, 1, 10_000_000),
          parsed.integer("--connections", 8, 1, 10_000),
          parsed.decimal("--rate", 1, 0.001, 100_000),
          parsed.integer("--malformed-every", 1000, 0, Integer.MAX_VALUE),
          parsed.integer("--metrics-port", -1, 0, 65535),
          command == null ? null : ScheduledCommand.parse(command, commandAfter));
    }

    private static int defaultPort() {
      String property = System.getProperty("vehicle.port");
      if (property == null) {
        return DEFAULT_PORT;
      }
      try {
        return Args.checkRange("vehicle.port", Integer.parseInt(property), 0, 65535);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "vehicle.port: " + property + " (expected: a whole number)", e);
      }
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
        metrics.route(HealthHandler.PATH, new HealthHandler(server::health));
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

  /** Runs the service until Ctrl-C; see {@link #USAGE}. */
  public static void main(String[] args) {
    Options options = Args.optionsOrExit(args, USAGE, Options::parse);
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
      System.out.println("metrics at " + metricsUrl);
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
