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
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

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

  static final String USAGE =
      """
      usage: KafkaForwarder --kafka-bootstrap HOST:PORT [options]
        --kafka-bootstrap H:P  Kafka bootstrap servers (required)
        --kafka-topic T        topic to write to (default: vehicle-positions)
        --no-headers           send no remote-address / received-at headers
        --port N               port to listen on; 0 picks a free one (default: 9000)
        --bind ADDRESS         address to listen on (default: the loopback address)
        --simulate N           also simulate N vehicles against this forwarder (default: 0)
        --connections N        connections the simulation uses (default: 8)
        --rate R               positions per simulated vehicle per second (default: 1)""";

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
      double simulatedRate) {

    static Options parse(String[] args) {
      Args parsed =
          Args.parse(
              args,
              Set.of(
                  "--kafka-bootstrap",
                  "--kafka-topic",
                  "--port",
                  "--bind",
                  "--simulate",
                  "--connections",
                  "--rate"),
              Set.of("--no-headers"));
      String bootstrap = parsed.string("--kafka-bootstrap");
      if (bootstrap == null || bootstrap.isEmpty()) {
        throw new IllegalArgumentException("--kafka-bootstrap: missing (expected: host:port)");
      }
      String bind = parsed.string("--bind");
      InetAddress address;
      try {
        address = bind == null ? InetAddress.getLoopbackAddress() : InetAddress.getByName(bind);
      } catch (IOException e) {
        throw new IllegalArgumentException("--bind: " + bind + " (expected: a local address)", e);
      }
      return new Options(
          bootstrap,
          parsed.string("--kafka-topic", "vehicle-positions"),
          !parsed.flag("--no-headers"),
          address,
          parsed.integer("--port", 9000, 0, 65535),
          parsed.integer("--simulate", 0, 0, 10_000_000),
          parsed.integer("--connections", 8, 1, 10_000),
          parsed.decimal("--rate", 1, 0.001, 100_000));
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

  /** Runs the forwarder until Ctrl-C; see {@link #USAGE}. */
  public static void main(String[] args) {
    Options options = Args.optionsOrExit(args, USAGE, Options::parse);
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
