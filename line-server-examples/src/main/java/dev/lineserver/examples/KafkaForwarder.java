package dev.lineserver.examples;

import dev.lineserver.ConnectionInfo;
import dev.lineserver.Line;
import dev.lineserver.LineServer;
import dev.lineserver.LineServerListener;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Forwards the vehicle feed to Kafka: vehicles (or gateways) connect over TCP and send one position
 * per line, {@code vehicleId,epochMillis,lat,lon,speedKmh,heading}; each valid line becomes one
 * record of {@code --kafka-topic}, keyed by its vehicle id, so one vehicle's positions stay in
 * order in one partition. A malformed line is rejected (counted, never sent). The sink runs on a
 * small executor, so a slow broker pauses reading instead of filling memory; see {@link
 * KafkaLineSink}.
 *
 * <pre>
 * java dev.lineserver.examples.KafkaForwarder --kafka-bootstrap localhost:9092 --simulate 200
 * </pre>
 */
public final class KafkaForwarder implements AutoCloseable {
  static final String THREAD_PREFIX = "kafka-forwarder";

  /**
   * The prefix of the environment variables options may come from: {@code
   * FORWARDER_KAFKA_BOOTSTRAP}, ...
   */
  static final String ENV_PREFIX = "FORWARDER_";

  private final LineServer server;
  private final KafkaLineSink sink;
  private final ExecutorService executor;
  private final LongAdder rejected;
  private final @Nullable FleetSimulator simulator;
  private final PrintStream out;
  private boolean closed;

  record Options(
      String bootstrapServers,
      String topic,
      boolean headers,
      InetAddress bindAddress,
      int port,
      int simulatedVehicles,
      int simulatedConnections,
      double simulatedRate) {}

  /** The command line: picocli fills the fields, {@link #options()} checks them. */
  @Command(
      name = "kafka-forwarder",
      sortOptions = false,
      usageHelpWidth = 100,
      description = {
        "Forwards position lines from TCP to a Kafka topic, keyed by vehicle id.",
        "Every option may also come from the environment variable named after it."
      })
  static final class Arguments implements Cli.OptionsCommand<Options> {
    @Option(
        names = "--kafka-bootstrap",
        paramLabel = "H:P",
        description = "Kafka bootstrap servers (env: FORWARDER_KAFKA_BOOTSTRAP; required)")
    @Nullable String bootstrap;

    @Option(
        names = "--kafka-topic",
        paramLabel = "T",
        defaultValue = "vehicle-positions",
        description = "topic to write to (env: FORWARDER_KAFKA_TOPIC; default: ${DEFAULT-VALUE})")
    String topic = "vehicle-positions";

    @Option(
        names = "--no-headers",
        description =
            "send no remote-address / received-at headers (env: FORWARDER_NO_HEADERS=true;"
                + " default: ${DEFAULT-VALUE})")
    boolean noHeaders;

    @Option(
        names = "--port",
        paramLabel = "N",
        defaultValue = "9000",
        description =
            "port to listen on; 0 picks a free one (env: FORWARDER_PORT; default: ${DEFAULT-VALUE})")
    int port;

    @Option(
        names = "--bind",
        paramLabel = "ADDRESS",
        description = "address to listen on (env: FORWARDER_BIND; default: the loopback address)")
    @Nullable String bind;

    @Option(
        names = "--simulate",
        paramLabel = "N",
        defaultValue = "0",
        description =
            "also simulate N vehicles against this forwarder (env: FORWARDER_SIMULATE;"
                + " default: ${DEFAULT-VALUE})")
    int simulate;

    @Option(
        names = "--connections",
        paramLabel = "N",
        defaultValue = "8",
        description =
            "connections the simulation uses (env: FORWARDER_CONNECTIONS;"
                + " default: ${DEFAULT-VALUE})")
    int connections;

    @Option(
        names = "--rate",
        paramLabel = "R",
        defaultValue = "1",
        description =
            "positions per simulated vehicle per second (env: FORWARDER_RATE;"
                + " default: ${DEFAULT-VALUE})")
    double rate;

    @Option(names = "--help", usageHelp = true, description = "print this and exit")
    boolean help;

    @Override
    public Options options() {
      if (bootstrap == null || bootstrap.isEmpty()) {
        throw new IllegalArgumentException("--kafka-bootstrap: missing (expected: host:port)");
      }
      InetAddress address;
      try {
        address = bind == null ? InetAddress.getLoopbackAddress() : InetAddress.getByName(bind);
      } catch (IOException e) {
        throw new IllegalArgumentException("--bind: " + bind + " (expected: a local address)", e);
      }
      return new Options(
          bootstrap,
          topic,
          !noHeaders,
          address,
          Cli.checkRange("--port", port, 0, 65535),
          Cli.checkRange("--simulate", simulate, 0, 10_000_000),
          Cli.checkRange("--connections", connections, 1, 10_000),
          Cli.checkRange("--rate", rate, 0.001, 100_000));
    }
  }

  private KafkaForwarder(
      LineServer server,
      KafkaLineSink sink,
      ExecutorService executor,
      LongAdder rejected,
      @Nullable FleetSimulator simulator,
      PrintStream out) {
    this.server = server;
    this.sink = sink;
    this.executor = executor;
    this.rejected = rejected;
    this.simulator = simulator;
    this.out = out;
  }

  /** The key of a valid position line: its vehicle id; a malformed line is rejected. */
  static byte[] vehicleId(Line line) {
    return PositionParser.parse(line.asString()).vehicleId().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Starts the producer, the server and, if asked for, the simulation.
   *
   * @throws IOException if the port cannot be bound or the simulation cannot connect
   */
  static KafkaForwarder start(Options options, PrintStream out) throws IOException {
    KafkaLineSink sink =
        KafkaLineSink.create(
            options.bootstrapServers(),
            options.topic(),
            KafkaForwarder::vehicleId,
            options.headers());
    AtomicInteger threads = new AtomicInteger();
    // Two threads: a send only appends to the producer's buffer, so more would mostly contend; a
    // blocked send (broker slow) blocks them both, and the server then stops reading.
    ExecutorService executor =
        Executors.newFixedThreadPool(
            2, task -> new Thread(task, THREAD_PREFIX + "-sink-" + threads.incrementAndGet()));
    LongAdder rejected = new LongAdder();
    LineServer server;
    try {
      server =
          LineServer.builder()
              .bindAddress(options.bindAddress())
              .port(options.port())
              .maxLineLength(1024)
              .restartIntensity(100, Duration.ofSeconds(1))
              .shutdownTimeout(Duration.ofSeconds(5))
              .sinkExecutor(executor)
              .maxPendingBytes(16L * 1024 * 1024)
              .byteSink(sink)
              .listener(
                  new LineServerListener() {
                    @Override
                    public void sinkFailed(
                        ConnectionInfo connection, @Nullable String line, Exception error) {
                      rejected.increment();
                    }
                  })
              .start();
    } catch (IOException | RuntimeException e) {
      executor.shutdown();
      sink.close();
      throw e;
    }
    FleetSimulator simulator = null;
    if (options.simulatedVehicles() > 0) {
      InetAddress bound = options.bindAddress();
      InetAddress target = bound.isAnyLocalAddress() ? InetAddress.getLoopbackAddress() : bound;
      try {
        simulator =
            FleetSimulator.start(
                new FleetSimulator.Options(
                    target.getHostAddress(),
                    server.port(),
                    options.simulatedVehicles(),
                    options.simulatedConnections(),
                    options.simulatedRate(),
                    1000,
                    0,
                    System.nanoTime()));
      } catch (IOException | RuntimeException e) {
        server.close();
        executor.shutdown();
        sink.close();
        throw e;
      }
    }
    return new KafkaForwarder(server, sink, executor, rejected, simulator, out);
  }

  int port() {
    return server.port();
  }

  KafkaLineSink sink() {
    return sink;
  }

  long rejected() {
    return rejected.sum();
  }

  /**
   * Stops the simulation, then the server (which delivers every line it received to the sink), then
   * the sink (which waits for Kafka to acknowledge every line), and prints the totals. Idempotent.
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
    executor.shutdown();
    sink.close();
    out.printf(
        Locale.ROOT,
        "stopped: sent=%d acknowledged=%d failed=%d rejected=%d%n",
        sink.sent(),
        sink.acknowledged(),
        sink.failedSends(),
        rejected());
  }

  /** Runs the forwarder until Ctrl-C; {@code --help} lists the options. */
  public static void main(String[] args) {
    Options options = Cli.optionsOrExit(new Arguments(), ENV_PREFIX, args);
    if (options == null) {
      return;
    }
    KafkaForwarder forwarder;
    try {
      forwarder = start(options, System.out);
    } catch (IOException e) {
      System.err.println("cannot start: " + e.getMessage());
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(forwarder::close, THREAD_PREFIX + "-shutdown"));
    System.out.printf(
        Locale.ROOT,
        "forwarding %s to %s at %s%s; Ctrl-C to stop%n",
        forwarder.server.localAddress(),
        options.topic(),
        options.bootstrapServers(),
        options.simulatedVehicles() == 0
            ? ""
            : String.format(Locale.ROOT, ", simulating %d vehicles", options.simulatedVehicles()));
  }
}
