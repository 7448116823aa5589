package dev.lineserver.examples;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Sends position lines for a fleet of simulated vehicles over a few TCP connections, the way
 * gateways in the field would: each connection carries its share of the vehicles, each vehicle
 * reports {@code rate} times a second, and now and then a line is malformed on purpose.
 *
 * <p>One daemon thread per connection ({@code fleet-sim-1}, ...) owns its socket, its vehicles and
 * its random generator; the threads share only the stop latch and the counters. Daemon, because a
 * load generator should never be what keeps a JVM alive; {@link #close()} stops them and {@link
 * #join()} waits for them.
 *
 * <pre>
 * java dev.lineserver.examples.FleetSimulator --port 9000 --vehicles 1000 --connections 8
 * </pre>
 */
public final class FleetSimulator implements AutoCloseable {
  /** Every thread of a simulator is named with this prefix and its connection's number. */
  static final String THREAD_PREFIX = "fleet-sim-";

  static final String USAGE =
      """
      usage: FleetSimulator [options]
        --host HOST            server to connect to (default: localhost)
        --port N               server port (default: 9000)
        --vehicles N           simulated vehicles (default: 200)
        --connections N        TCP connections sharing them, at most one per vehicle (default: 8)
        --rate R               positions per vehicle per second (default: 1)
        --malformed-every N    send about 1 line in N malformed; 0 never (default: 1000)
        --duration SECONDS     stop after this long; 0 runs until Ctrl-C (default: 0)
        --seed N               seed of the simulation (default: random)""";

  private static final Logger LOGGER = System.getLogger("dev.lineserver.examples");

  /** How many kinds of malformed line {@link #malformed} makes. */
  static final int MALFORMED_KINDS = 8;

  /** How long {@link #close()} lets senders finish their batch before closing their sockets. */
  private static final long STOP_GRACE_MILLIS = 2000;

  private final Options options;
  private final List<Sender> senders = new ArrayList<>();
  private final CountDownLatch stop = new CountDownLatch(1);
  private final LongAdder sent = new LongAdder();
  private final LongAdder malformedSent = new LongAdder();

  /**
   * What to simulate; the constructor checks every value.
   *
   * @param rate positions per vehicle per second
   * @param malformedEvery about one line in this many is malformed; 0 for none
   * @param durationSeconds how long to send; 0 until {@link FleetSimulator#close()}
   */
  record Options(
      String host,
      int port,
      int vehicles,
      int connections,
      double rate,
      int malformedEvery,
      long durationSeconds,
      long seed) {

    Options {
      if (host.isEmpty()) {
        throw new IllegalArgumentException("host: \"\" (expected: a host name or address)");
      }
      Args.checkRange("port", port, 1, 65535);
      Args.checkRange("vehicles", vehicles, 1, 10_000_000);
      Args.checkRange("connections", connections, 1, 10_000);
      if (!(rate >= 0.001 && rate <= 100_000)) {
        throw new IllegalArgumentException("rate: " + rate + " (expected: 0.001..100000)");
      }
      Args.checkRange("malformedEvery", malformedEvery, 0, Integer.MAX_VALUE);
      if (durationSeconds < 0) {
        throw new IllegalArgumentException(
            "durationSeconds: " + durationSeconds + " (expected: >= 0)");
      }
    }

    static Options parse(String[] args) {
      Args parsed =
          Args.parse(
              args,
              Set.of(
                  "--host",
                  "--port",
                  "--vehicles",
                  "--connections",
                  "--rate",
                  "--malformed-every",
                  "--duration",
                  "--seed"),
              Set.of());
      String seed = parsed.string("--seed");
      return new Options(
          parsed.string("--host", "localhost"),
          parsed.integer("--port", 9000, 1, 65535),
          parsed.integer("--vehicles", 200, 1, 10_000_000),
          parsed.integer("--connections", 8, 1, 10_000),
          parsed.decimal("--rate", 1, 0.001, 100_000),
          parsed.integer("--malformed-every", 1000, 0, Integer.MAX_VALUE),
          parsed.integer("--duration", 0, 0, Integer.MAX_VALUE),
          seed == null ? System.nanoTime() : parseSeed(seed));
    }

    private static long parseSeed(String text) {
      try {
        return Long.parseLong(text);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--seed: " + text + " (expected: a whole number)", e);
      }
    }

    /** At most one connection per vehicle. */
    int effectiveConnections() {
      return Math.min(connections, vehicles);
    }
  }

  private FleetSimulator(Options options) {
    this.options = options;
  }

  /**
   * Connects every connection, then starts sending on each.
   *
   * @throws IOException if a connection cannot be made; the ones already made are closed
   */
  static FleetSimulator start(Options options) throws IOException {
    FleetSimulator simulator = new FleetSimulator(options);
    simulator.connect();
    for (Sender sender : simulator.senders) {
      sender.thread.start();
    }
    return simulator;
  }

  /** Deals the vehicles round-robin to the connections and opens each; all or none. */
  private void connect() throws IOException {
    SplittableRandom random = new SplittableRandom(options.seed());
    int connections = options.effectiveConnections();
    long now = System.currentTimeMillis();
    List<List<SimulatedVehicle>> shares = new ArrayList<>();
    for (int c = 0; c < connections; c++) {
      shares.add(new ArrayList<>());
    }
    int idWidth = Integer.toString(options.vehicles()).length();
    for (int v = 0; v < options.vehicles(); v++) {
      String id = String.format(Locale.ROOT, "veh-%0" + idWidth + "d", v + 1);
      shares.get(v % connections).add(new SimulatedVehicle(id, random, now));
    }
    try {
      for (int c = 0; c < connections; c++) {
        Socket socket = new Socket();
        try {
          socket.setTcpNoDelay(true);
          socket.connect(new InetSocketAddress(options.host(), options.port()), 5000);
        } catch (IOException e) {
          socket.close();
          throw e;
        }
        SimulatedVehicle[] share = shares.get(c).toArray(new SimulatedVehicle[0]);
        senders.add(new Sender(THREAD_PREFIX + (c + 1), socket, share, random.split()));
      }
    } catch (IOException | RuntimeException e) {
      for (Sender sender : senders) {
        sender.closeSocket();
      }
      throw e;
    }
  }

  /** Lines sent and flushed so far, malformed ones included. */
  long sent() {
    return sent.sum();
  }

  /** Malformed lines sent and flushed so far. */
  long malformedSent() {
    return malformedSent.sum();
  }

  /**
   * Waits until every connection has stopped: its duration ended, it failed, or {@link #close()}.
   */
  void join() throws InterruptedException {
    for (Sender sender : senders) {
      sender.thread.join();
    }
  }

  /**
   * Stops sending: each connection finishes the batch it is writing, then half-closes and closes
   * its socket, so the server receives every line counted in {@link #sent()}. A connection stuck in
   * a write (the server stopped reading) has its socket closed after a grace period. Returns when
   * every thread has ended. Idempotent.
   */
  @Override
  public void close() {
    stop.countDown();
    boolean interrupted = false;
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STOP_GRACE_MILLIS);
    for (Sender sender : senders) {
      try {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        sender.thread.join(Math.max(1, left));
        if (sender.thread.isAlive()) {
          sender.closeSocket();
          sender.thread.join();
        }
      } catch (InterruptedException e) {
        interrupted = true;
        sender.closeSocket();
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** A malformed variant of {@code position}'s line; each {@code kind} breaks another field. */
  static String malformed(Position position, int kind) {
    String[] fields = position.toLine().split(",", -1);
    switch (kind) {
      case 0 -> fields[0] = "";
      case 1 -> fields[1] = "yesterday";
      case 2 -> fields[2] = "91.500000";
      case 3 -> fields[3] = "-181.250000";
      case 4 -> fields[4] = "-12.0";
      case 5 -> fields[4] = "fast";
      case 6 -> fields[5] = "400.0";
      case 7 -> fields = Arrays.copyOf(fields, PositionParser.FIELDS - 1);
      default ->
          throw new IllegalArgumentException(
              "kind: " + kind + " (expected: 0.." + (MALFORMED_KINDS - 1) + ")");
    }
    return String.join(",", fields);
  }

  /** One connection: owns its socket, vehicles and random generator; runs on its own thread. */
  private final class Sender implements Runnable {
    private final Socket socket;
    private final SimulatedVehicle[] vehicles;
    private final SplittableRandom random;
    private final Thread thread;

    Sender(String name, Socket socket, SimulatedVehicle[] vehicles, SplittableRandom random) {
      this.socket = socket;
      this.vehicles = vehicles;
      this.random = random;
      this.thread = new Thread(this, name);
      this.thread.setDaemon(true);
    }

    @Override
    public void run() {
      try (Socket owned = socket) {
        Writer out =
            new BufferedWriter(
                new OutputStreamWriter(owned.getOutputStream(), StandardCharsets.UTF_8), 16 * 1024);
        send(out);
        out.flush();
        owned.shutdownOutput();
      } catch (IOException e) {
        if (stop.getCount() != 0) {
          LOGGER.log(Level.WARNING, thread.getName() + ": connection lost: " + e);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    /**
     * Sends lines at {@code rate * vehicles} a second until stopped or the duration ends. It sends
     * whatever is due, flushes, and waits for the next line's time; one that fell more than a
     * second behind (a slow server) skips the backlog rather than bursting it.
     */
    private void send(Writer out) throws IOException, InterruptedException {
      double linesPerSecond = options.rate() * vehicles.length;
      long maxBacklog = Math.max(1, (long) linesPerSecond);
      long start = System.nanoTime();
      long end = start + TimeUnit.SECONDS.toNanos(options.durationSeconds());
      boolean forever = options.durationSeconds() == 0;
      long due = 0;
      int next = 0;
      while (stop.getCount() != 0) {
        long now = System.nanoTime();
        if (!forever && now - end >= 0) {
          return;
        }
        long dueNow = 1 + (long) ((now - start) * linesPerSecond / 1e9);
        due = Math.max(due, dueNow - maxBacklog);
        int lines = 0;
        int malformed = 0;
        long millis = System.currentTimeMillis();
        for (; due < dueNow; due++) {
          Position position = vehicles[next].next(millis, random);
          next = (next + 1) % vehicles.length;
          if (options.malformedEvery() > 0 && random.nextInt(options.malformedEvery()) == 0) {
            out.write(malformed(position, random.nextInt(MALFORMED_KINDS)));
            malformed++;
          } else {
            out.write(position.toLine());
          }
          out.write('\n');
          lines++;
        }
        out.flush();
        sent.add(lines);
        malformedSent.add(malformed);
        long nextLine = start + (long) Math.ceil(due * 1e9 / linesPerSecond);
        long wake = forever || nextLine - end < 0 ? nextLine : end;
        long wait = wake - System.nanoTime();
        if (wait > 0 && stop.await(wait, TimeUnit.NANOSECONDS)) {
          return;
        }
      }
    }

    void closeSocket() {
      try {
        socket.close();
      } catch (IOException e) {
        LOGGER.log(Level.DEBUG, () -> thread.getName() + ": closing failed: " + e);
      }
    }
  }

  /** Runs a simulator until its duration ends or Ctrl-C; see {@link #USAGE}. */
  public static void main(String[] args) throws InterruptedException {
    Options options = Args.optionsOrExit(args, USAGE, Options::parse);
    if (options == null) {
      return;
    }
    FleetSimulator simulator;
    try {
      simulator = start(options);
    } catch (IOException e) {
      System.err.println(
          "cannot connect to " + options.host() + ":" + options.port() + ": " + e.getMessage());
      System.exit(1);
      return;
    }
    System.out.printf(
        Locale.ROOT,
        "sending %d vehicles over %d connections to %s:%d, %s positions/s each; Ctrl-C to stop%n",
        options.vehicles(),
        options.effectiveConnections(),
        options.host(),
        options.port(),
        options.rate());
    Runtime.getRuntime().addShutdownHook(new Thread(simulator::close, "fleet-sim-shutdown"));
    simulator.join();
    System.out.printf(
        Locale.ROOT, "sent %d lines, %d malformed%n", simulator.sent(), simulator.malformedSent());
  }
}
