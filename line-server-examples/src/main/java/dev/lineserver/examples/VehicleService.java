package dev.lineserver.examples;

import dev.lineserver.LineServer;
import io.micrometer.core.instrument.Tags;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A vehicle-location service: vehicles (or gateways) connect over TCP and send one line per
 * position, {@code vehicleId,epochMillis,lat,lon,speedKmh,heading}; the service keeps each
 * vehicle's latest position and prints a summary every second. Unless told {@code --no-simulate},
 * it also runs a {@link FleetSimulator} against itself, so starting it shows traffic at once. With
 * {@code --metrics-port}, it serves the server's {@link LineServerMetrics} as Prometheus text at
 * {@code /metrics}.
 *
 * <pre>
 * java dev.lineserver.examples.VehicleService --port 9000 --simulate 200 --connections 8 \
 *     --metrics-port 9100
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
      address; 0 picks a free one (default: off)""";

  private static final int DEFAULT_PORT = 9000;

  private final VehicleTracker tracker;
  private final LineServer server;
  private final SummaryPrinter summary;
  private final @Nullable FleetSimulator simulator;
  private final @Nullable MetricsEndpoint metrics;
  private final PrintStream out;
  private boolean closed;

  /**
   * What to run; see {@link #USAGE}.
   *
   * @param simulatedVehicles 0 to only listen
   * @param metricsPort -1 to serve no metrics, 0 for any free port
   */
  record Options(
      InetAddress bindAddress,
      int port,
      int simulatedVehicles,
      int simulatedConnections,
      double simulatedRate,
      int malformedEvery,
      int metricsPort) {

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
                  "--metrics-port"),
              Set.of("--no-simulate"));
      if (parsed.flag("--no-simulate") && parsed.string("--simulate") != null) {
        throw new IllegalArgumentException("--no-simulate: given with --simulate (expected: one)");
      }
      return new Options(
          bindAddress(parsed.string("--bind")),
          parsed.integer("--port", defaultPort(), 0, 65535),
          parsed.flag("--no-simulate") ? 0 : parsed.integer("--simulate", 200, 1, 10_000_000),
          parsed.integer("--connections", 8, 1, 10_000),
          parsed.decimal("--rate", 1, 0.001, 100_000),
          parsed.integer("--malformed-every", 1000, 0, Integer.MAX_VALUE),
          parsed.integer("--metrics-port", -1, 0, 65535));
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
   * Starts the server, the summary and, if asked for, the metrics endpoint and the simulation.
   *
   * @param out where the summary lines go
   * @throws IOException if a port cannot be bound or the simulation cannot connect
   */
  static VehicleService start(Options options, PrintStream out) throws IOException {
    VehicleTracker tracker = new VehicleTracker();
    LineServer server =
        LineServer.builder()
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
            .shutdownTimeout(Duration.ofSeconds(5))
            .sink(tracker)
            .listener(tracker.listener())
            .start();
    SummaryPrinter summary;
    try {
      summary = SummaryPrinter.start(tracker, out, Duration.ofSeconds(1));
    } catch (RuntimeException | Error e) {
      server.close();
      throw e;
    }
    MetricsEndpoint metrics = null;
    if (options.metricsPort() >= 0) {
      try {
        metrics =
            MetricsEndpoint.start(
                options.bindAddress(),
                options.metricsPort(),
                new LineServerMetrics(server, Tags.of("server", "vehicles")));
      } catch (IOException | RuntimeException e) {
        summary.close();
        server.close();
        throw e;
      }
    }
    FleetSimulator simulator = null;
    if (options.simulatedVehicles() > 0) {
      try {
        simulator = FleetSimulator.start(simulation(options, server.port()));
      } catch (IOException | RuntimeException e) {
        if (metrics != null) {
          metrics.close();
        }
        summary.close();
        server.close();
        throw e;
      }
    }
    return new VehicleService(tracker, server, summary, simulator, metrics, out);
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
   * Stops the simulation, then the server, then the summary and the metrics endpoint, and prints
   * the totals. The simulation goes first: the server's close waits for connections to go quiet,
   * and simulated ones never would. Idempotent; a second caller waits for the first.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
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
        "stopped: lines=%d vehicles=%d rejected=%d%n",
        tracker.lines(),
        tracker.vehicles(),
        tracker.rejected());
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
    // main returns; the server's threads are not daemons and keep the service running.
  }
}
