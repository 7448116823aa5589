package dev.lineserver.examples;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
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
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Sends position lines for a fleet of simulated vehicles over a few TCP connections, the way
 * gateways in the field would: each connection carries its share of the vehicles, each vehicle
 * reports {@code rate} times a second, and now and then a line is malformed on purpose. It reads
 * what the server answers on each connection: it counts {@code ACK ...} and {@code ERR ...} lines,
 * and obeys {@code CMD <vehicleId> SET interval=<millis>} by changing that vehicle's report
 * interval, printing {@code vehicle veh-017: interval 1000 ms -> 200 ms}. Other lines are counted
 * as ignored; a command it cannot obey is printed as ignored.
 *
 * <p>Two daemon threads per connection: {@code fleet-sim-1}, ... owns its socket's output, its
 * vehicles and its random generator; {@code fleet-sim-1-replies}, ... reads the replies (lines of
 * at most {@value #MAX_REPLY_LENGTH} bytes; longer ones are skipped) and hands commands to the
 * sender through a queue. The threads share only the stop latch, those queues and the counters.
 * Daemon, because a load generator should never be what keeps a JVM alive; {@link #close()} stops
 * them and {@link #join()} waits for them.
 *
 * <pre>
 * java dev.lineserver.examples.FleetSimulator --port 9000 --vehicles 1000 --connections 8
 * </pre>
 */
public final class FleetSimulator implements AutoCloseable {
  /** Every thread of a simulator is named with this prefix and its connection's number. */
  static final String THREAD_PREFIX = "fleet-sim-";

  /** The prefix of the environment variables options may come from: {@code FLEET_SIM_PORT}, ... */
  static final String ENV_PREFIX = "FLEET_SIM_";

  private static final Logger LOGGER = System.getLogger("dev.lineserver.examples");

  /** How many kinds of malformed line {@link #malformed} makes. */
  static final int MALFORMED_KINDS = 8;

  /** The longest reply line read; a longer one is skipped and counted as ignored. */
  static final int MAX_REPLY_LENGTH = 1024;

  /** The longest report interval a command may set: a day. */
  static final long MAX_INTERVAL_MILLIS = TimeUnit.DAYS.toMillis(1);

  /**
   * How long {@link #close()} lets senders finish their batch, and the server answer what they
   * sent, before closing their sockets.
   */
  private static final long STOP_GRACE_MILLIS = 2000;

  /** A vehicle that fell further behind than this (a slow server) skips its backlog. */
  private static final long MAX_BACKLOG_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final Options options;
  private final PrintStream notices;
  private final List<Sender> senders = new ArrayList<>();
  private final Map<String, SimulatedVehicle> vehicles = new ConcurrentHashMap<>();
  private final CountDownLatch stop = new CountDownLatch(1);
  private final LongAdder sent = new LongAdder();
  private final LongAdder malformedSent = new LongAdder();
  private final LongAdder acks = new LongAdder();
  private final LongAdder errors = new LongAdder();
  private final LongAdder commandsObeyed = new LongAdder();
  private final LongAdder repliesIgnored = new LongAdder();

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
      Cli.checkRange("port", port, 1, 65535);
      Cli.checkRange("vehicles", vehicles, 1, 10_000_000);
      Cli.checkRange("connections", connections, 1, 10_000);
      if (!(rate >= 0.001 && rate <= 100_000)) {
        throw new IllegalArgumentException("rate: " + rate + " (expected: 0.001..100000)");
      }
      Cli.checkRange("malformedEvery", malformedEvery, 0, Integer.MAX_VALUE);
      if (durationSeconds < 0) {
        throw new IllegalArgumentException(
            "durationSeconds: " + durationSeconds + " (expected: >= 0)");
      }
    }

    /** At most one connection per vehicle. */
    int effectiveConnections() {
      return Math.min(connections, vehicles);
    }

    /** Each vehicle's report interval until a command changes it. */
    long intervalNanos() {
      return Math.max(1, Math.round(1e9 / rate));
    }
  }

  /** The command line: picocli fills the fields, {@link #options()} checks them. */
  @Command(
      name = "fleet-simulator",
      sortOptions = false,
      usageHelpWidth = 100,
      description = {
        "Sends position lines for a fleet of simulated vehicles over a few TCP connections.",
        "Every option may also come from the environment variable named after it."
      })
  static final class Arguments implements Cli.OptionsCommand<Options> {
    @Option(
        names = "--host",
        paramLabel = "HOST",
        defaultValue = "localhost",
        description = "server to connect to (env: FLEET_SIM_HOST; default: ${DEFAULT-VALUE})")
    String host = "localhost";

    @Option(
        names = "--port",
        paramLabel = "N",
        defaultValue = "9000",
        description = "server port (env: FLEET_SIM_PORT; default: ${DEFAULT-VALUE})")
    int port;

    @Option(
        names = "--vehicles",
        paramLabel = "N",
        defaultValue = "200",
        description = "simulated vehicles (env: FLEET_SIM_VEHICLES; default: ${DEFAULT-VALUE})")
    int vehicles;

    @Option(
        names = "--connections",
        paramLabel = "N",
        defaultValue = "8",
        description =
            "TCP connections sharing them, at most one per vehicle (env: FLEET_SIM_CONNECTIONS;"
                + " default: ${DEFAULT-VALUE})")
    int connections;

    @Option(
        names = "--rate",
        paramLabel = "R",
        defaultValue = "1",
        description =
            "positions per vehicle per second; the server may change a vehicle's with CMD"
                + " <vehicleId> SET interval=<millis> (env: FLEET_SIM_RATE;"
                + " default: ${DEFAULT-VALUE})")
    double rate;

    @Option(
        names = "--malformed-every",
        paramLabel = "N",
        defaultValue = "1000",
        description =
            "send about 1 line in N malformed; 0 never (env: FLEET_SIM_MALFORMED_EVERY;"
                + " default: ${DEFAULT-VALUE})")
    int malformedEvery;

    @Option(
        names = "--duration",
        paramLabel = "SECONDS",
        defaultValue = "0",
        description =
            "stop after this long; 0 runs until Ctrl-C (env: FLEET_SIM_DURATION;"
                + " default: ${DEFAULT-VALUE})")
    int duration;

    @Option(
        names = "--seed",
        paramLabel = "N",
        description = "seed of the simulation (env: FLEET_SIM_SEED; default: random)")
    @Nullable Long seed;

    @Option(names = "--help", usageHelp = true, description = "print this and exit")
    boolean help;

    @Override
    public Options options() {
      return new Options(
          host,
          Cli.checkRange("--port", port, 1, 65535),
          Cli.checkRange("--vehicles", vehicles, 1, 10_000_000),
          Cli.checkRange("--connections", connections, 1, 10_000),
          Cli.checkRange("--rate", rate, 0.001, 100_000),
          Cli.checkRange("--malformed-every", malformedEvery, 0, Integer.MAX_VALUE),
          Cli.checkRange("--duration", duration, 0, Integer.MAX_VALUE),
          seed == null ? System.nanoTime() : seed);
    }
  }

  private FleetSimulator(Options options, PrintStream notices) {
    this.options = options;
    this.notices = notices;
  }

  /**
   * Connects every connection, then starts reading and sending on each; prints nothing.
   *
   * @throws IOException if a connection cannot be made; the ones already made are closed
   */
  static FleetSimulator start(Options options) throws IOException {
    return start(
        options, new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8));
  }

  /**
   * Connects every connection, then starts reading and sending on each.
   *
   * @param notices where each command obeyed or ignored is printed, one line each
   * @throws IOException if a connection cannot be made; the ones already made are closed
   */
  static FleetSimulator start(Options options, PrintStream notices) throws IOException {
    FleetSimulator simulator = new FleetSimulator(options, notices);
    simulator.connect();
    for (Sender sender : simulator.senders) {
      sender.replyThread.start();
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
      SimulatedVehicle vehicle = new SimulatedVehicle(id, options.intervalNanos(), random, now);
      vehicles.put(id, vehicle);
      shares.get(v % connections).add(vehicle);
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

  /** {@code ACK} lines received so far. */
  long acks() {
    return acks.sum();
  }

  /** {@code ERR} lines received so far. */
  long errors() {
    return errors.sum();
  }

  /** {@code SET interval} commands applied so far. */
  long commandsObeyed() {
    return commandsObeyed.sum();
  }

  /** Reply lines that were none of the above: unknown, too long, or a command not obeyed. */
  long repliesIgnored() {
    return repliesIgnored.sum();
  }

  /** {@code vehicleId}'s report interval in milliseconds now, or null if it is not simulated. */
  @Nullable Double intervalMillis(String vehicleId) {
    SimulatedVehicle vehicle = vehicles.get(vehicleId);
    return vehicle == null ? null : vehicle.intervalNanos() / 1e6;
  }

  /**
   * Waits until every connection has stopped: its duration ended, it failed, or {@link #close()};
   * each has then read the server's replies up to its end of stream (or the grace period ended).
   */
  void join() throws InterruptedException {
    for (Sender sender : senders) {
      sender.thread.join();
    }
  }

  /**
   * Stops sending: each connection finishes the batch it is writing, then half-closes, reads the
   * replies until the server closes its side, and closes its socket, so the server receives every
   * line counted in {@link #sent()} and the counts of replies are complete. A connection stuck in a
   * write (the server stopped reading) or still waiting for replies has its socket closed after a
   * grace period. Returns when every thread has ended. Idempotent.
   */
  @Override
  public void close() {
    stop.countDown();
    for (Sender sender : senders) {
      sender.wakeups.release();
    }
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

  /**
   * The new report interval in milliseconds that {@code command} ({@code SET interval=<millis>})
   * asks for, or -1 if it is not such a command or the value is out of range.
   */
  static long parseSetInterval(String command) {
    String prefix = "SET interval=";
    if (!command.startsWith(prefix)) {
      return -1;
    }
    String text = command.substring(prefix.length());
    if (text.isEmpty() || text.length() > 9 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return -1;
    }
    long millis = Long.parseLong(text);
    return millis >= 1 && millis <= MAX_INTERVAL_MILLIS ? millis : -1;
  }

  /** {@code nanos} as milliseconds, without a fraction when it has none. */
  static String formatMillis(long nanos) {
    return nanos % 1_000_000 == 0
        ? Long.toString(nanos / 1_000_000)
        : String.format(Locale.ROOT, "%.3f", nanos / 1e6);
  }

  /** A command for the sender of {@code vehicle}, from its reply thread. */
  private record IntervalChange(SimulatedVehicle vehicle, long intervalNanos) {}

  /**
   * One connection: the sender thread owns its socket's output, its vehicles and random generator;
   * the reply thread owns its socket's input and hands commands over through {@link #changes},
   * releasing {@link #wakeups} so the sender applies them at once.
   */
  private final class Sender implements Runnable {
    private final Socket socket;
    private final SimulatedVehicle[] vehicles;
    private final Map<String, SimulatedVehicle> byId = new ConcurrentHashMap<>();
    private final SplittableRandom random;
    private final Thread thread;
    private final Thread replyThread;
    private final ConcurrentLinkedQueue<IntervalChange> changes = new ConcurrentLinkedQueue<>();
    private final Semaphore wakeups = new Semaphore(0);

    Sender(String name, Socket socket, SimulatedVehicle[] vehicles, SplittableRandom random) {
      this.socket = socket;
      this.vehicles = vehicles;
      for (SimulatedVehicle vehicle : vehicles) {
        byId.put(vehicle.id(), vehicle);
      }
      this.random = random;
      this.thread = new Thread(this, name);
      this.thread.setDaemon(true);
      this.replyThread = new Thread(this::readReplies, name + "-replies");
      this.replyThread.setDaemon(true);
    }

    @Override
    public void run() {
      try {
        Writer out =
            new BufferedWriter(
                new OutputStreamWriter(socket.getOutputStream(), StandardCharsets.UTF_8),
                16 * 1024);
        send(out);
        out.flush();
        socket.shutdownOutput();
        // The server answers what it has read, sees the end of stream and closes its side.
        replyThread.join(STOP_GRACE_MILLIS);
      } catch (IOException e) {
        if (stop.getCount() != 0) {
          LOGGER.log(Level.WARNING, thread.getName() + ": connection lost: " + e);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        closeSocket();
        joinReplies();
      }
    }

    /** Waits for the reply thread, which the closed socket ends. */
    private void joinReplies() {
      boolean interrupted = false;
      while (true) {
        try {
          replyThread.join();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }

    /**
     * Sends each vehicle's position every its interval until stopped or the duration ends; the
     * vehicles start spread evenly over one interval. It sends whatever is due, flushes, and waits
     * for the next report's time or a command. A vehicle that fell more than a second behind (a
     * slow server) skips its backlog rather than bursting it.
     */
    private void send(Writer out) throws IOException, InterruptedException {
      long start = System.nanoTime();
      long end = start + TimeUnit.SECONDS.toNanos(options.durationSeconds());
      boolean forever = options.durationSeconds() == 0;
      // Ordered by next report; a vehicle is taken out before its time changes.
      PriorityQueue<SimulatedVehicle> schedule =
          new PriorityQueue<>(
              vehicles.length,
              (a, b) -> Long.compare(a.nextReportNanos() - start, b.nextReportNanos() - start));
      for (int i = 0; i < vehicles.length; i++) {
        SimulatedVehicle vehicle = vehicles[i];
        vehicle.scheduleAt(start + (long) ((double) vehicle.intervalNanos() * i / vehicles.length));
        schedule.add(vehicle);
      }
      while (stop.getCount() != 0) {
        long now = System.nanoTime();
        applyChanges(schedule, now);
        if (!forever && now - end >= 0) {
          return;
        }
        int lines = 0;
        int malformed = 0;
        long millis = System.currentTimeMillis();
        for (SimulatedVehicle vehicle = schedule.element();
            vehicle.nextReportNanos() - now <= 0;
            vehicle = schedule.element()) {
          schedule.poll();
          Position position = vehicle.next(millis, random);
          if (options.malformedEvery() > 0 && random.nextInt(options.malformedEvery()) == 0) {
            out.write(malformed(position, random.nextInt(MALFORMED_KINDS)));
            malformed++;
          } else {
            out.write(position.toLine());
          }
          out.write('\n');
          lines++;
          long next = vehicle.nextReportNanos() + vehicle.intervalNanos();
          vehicle.scheduleAt(now - next > MAX_BACKLOG_NANOS ? now : next);
          schedule.add(vehicle);
        }
        if (lines > 0) {
          out.flush();
          sent.add(lines);
          malformedSent.add(malformed);
        }
        long wake = schedule.element().nextReportNanos();
        if (!forever && wake - end > 0) {
          wake = end;
        }
        long wait = wake - System.nanoTime();
        if (wait > 0 && wakeups.tryAcquire(wait, TimeUnit.NANOSECONDS)) {
          wakeups.drainPermits();
        }
      }
    }

    /**
     * Applies the commands the reply thread handed over: a vehicle's next report comes one new
     * interval after its last, or now if that is past.
     */
    private void applyChanges(PriorityQueue<SimulatedVehicle> schedule, long now) {
      for (IntervalChange change = changes.poll(); change != null; change = changes.poll()) {
        SimulatedVehicle vehicle = change.vehicle();
        long old = vehicle.intervalNanos();
        long last = vehicle.nextReportNanos() - old;
        schedule.remove(vehicle);
        vehicle.setIntervalNanos(change.intervalNanos());
        long next = last + change.intervalNanos();
        vehicle.scheduleAt(next - now < 0 ? now : next);
        schedule.add(vehicle);
        commandsObeyed.increment();
        notices.printf(
            Locale.ROOT,
            "vehicle %s: interval %s ms -> %s ms%n",
            vehicle.id(),
            formatMillis(old),
            formatMillis(change.intervalNanos()));
      }
    }

    /** Reads reply lines until the server closes its side or the socket is closed. */
    private void readReplies() {
      try {
        ReplyReader reader = new ReplyReader(socket.getInputStream(), repliesIgnored);
        for (String line = reader.readLine(); line != null; line = reader.readLine()) {
          handle(line);
        }
      } catch (IOException e) {
        if (stop.getCount() != 0) {
          LOGGER.log(Level.WARNING, replyThread.getName() + ": connection lost: " + e);
        }
      }
    }

    private void handle(String line) {
      if (line.startsWith("ACK ")) {
        acks.increment();
      } else if (line.startsWith("ERR ")) {
        errors.increment();
      } else if (line.startsWith("CMD ")) {
        command(line);
      } else {
        repliesIgnored.increment();
      }
    }

    /** {@code CMD <vehicleId> SET interval=<millis>}: hands the change to the sender. */
    private void command(String line) {
      int space = line.indexOf(' ', 4);
      SimulatedVehicle vehicle = space < 0 ? null : byId.get(line.substring(4, space));
      long millis = space < 0 ? -1 : parseSetInterval(line.substring(space + 1));
      if (vehicle == null || millis < 0) {
        repliesIgnored.increment();
        notices.println(replyThread.getName() + ": ignored: " + line);
        return;
      }
      changes.add(new IntervalChange(vehicle, TimeUnit.MILLISECONDS.toNanos(millis)));
      wakeups.release();
    }

    void closeSocket() {
      try {
        socket.close();
      } catch (IOException e) {
        LOGGER.log(Level.DEBUG, () -> thread.getName() + ": closing failed: " + e);
      }
    }
  }

  /**
   * Splits a byte stream into UTF-8 lines at LF (a CR before it is dropped), each at most {@link
   * #MAX_REPLY_LENGTH} bytes: a longer line is skipped up to its LF and counted in {@code skipped}.
   * A partial line at the end of the stream is dropped. Owned by one thread.
   */
  static final class ReplyReader {
    private final InputStream in;
    private final byte[] chunk = new byte[8192];
    private final byte[] line = new byte[MAX_REPLY_LENGTH];
    private int chunkPos;
    private int chunkLimit;
    private int length;
    private final LongAdder skipped;
    private boolean skipping;

    ReplyReader(InputStream in, LongAdder skipped) {
      this.in = in;
      this.skipped = skipped;
    }

    /** The next line, or null at the end of the stream. */
    @Nullable String readLine() throws IOException {
      while (true) {
        if (chunkPos == chunkLimit) {
          chunkLimit = in.read(chunk);
          chunkPos = 0;
          if (chunkLimit < 0) {
            chunkLimit = 0;
            return null;
          }
        }
        byte b = chunk[chunkPos++];
        if (b == '\n') {
          int end = length > 0 && line[length - 1] == '\r' ? length - 1 : length;
          length = 0;
          if (skipping) {
            skipping = false;
            continue;
          }
          return new String(line, 0, end, StandardCharsets.UTF_8);
        }
        if (skipping) {
          continue;
        }
        if (length == line.length) {
          skipping = true;
          skipped.increment();
          length = 0;
          continue;
        }
        line[length++] = b;
      }
    }
  }

  /** Runs a simulator until its duration ends or Ctrl-C; {@code --help} lists the options. */
  public static void main(String[] args) throws InterruptedException {
    Options options = Cli.optionsOrExit(new Arguments(), ENV_PREFIX, args);
    if (options == null) {
      return;
    }
    FleetSimulator simulator;
    try {
      simulator = start(options, System.out);
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
    System.out.println(simulator.totals());
  }

  /** One line of what was sent and received so far. */
  String totals() {
    return String.format(
        Locale.ROOT,
        "sent %d lines, %d malformed; received %d ACK, %d ERR, %d ignored; %d commands obeyed",
        sent(),
        malformedSent(),
        acks(),
        errors(),
        repliesIgnored(),
        commandsObeyed());
  }
}
