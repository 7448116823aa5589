package dev.lineserver.benchmarks.load;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * End-to-end load benchmark: a load client JVM against one server JVM at a time, on loopback.
 *
 * <pre>{@code
 * java -cp line-server-benchmarks/target/benchmarks.jar \
 *     dev.lineserver.benchmarks.load.LoadBenchmark --servers linestring,netty-nio \
 *     --connections 16 --line-length 64 --rounds 3 --duration 5 --warmup 2
 * }</pre>
 *
 * <p>Throughput rounds alternate the servers (A B C, A B C, …); each measurement starts a fresh
 * server JVM and client JVM, waits the warmup, then reads the sink's line count twice, {@code
 * duration} apart. Markdown goes to stdout, progress to stderr. See {@link #usage()}.
 *
 * <p>With {@code --ack} the servers answer every line with {@link Lines#ACK} and the clients read
 * the ACKs: the rate is ACKs received by the client per second, and each measurement ends with the
 * client stopping at a line boundary and checking that it got exactly one ACK per line it sent.
 */
public final class LoadBenchmark {
  /** Per measurement, besides warmup and duration: two JVM starts, connecting, teardown. */
  private static final int OVERHEAD_SECONDS = 3;

  private static final List<String> DEFAULT_SERVER_JVM =
      List.of("-Xms1g", "-Xmx1g", "-XX:+UseParallelGC");

  /**
   * Lines a client connection sends past its last ACK. At 4 bytes an ACK, the ACKs in flight stay
   * within 16 KiB a connection: under line-server's default send queue of 64 KiB however slowly the
   * client reads, so no ACK is refused for a full queue.
   */
  private static final int DEFAULT_ACK_WINDOW = 4096;

  private static final List<String> CLIENT_JVM =
      List.of("-Xms256m", "-Xmx256m", "-XX:+UseParallelGC");

  private final Options options;
  private final PrintStream out = System.out;
  private final PrintStream progress = System.err;
  private int children;

  /** The child JVMs' Java feature version, from {@code java -version}; 0 if unknown. */
  private int childFeature;

  private LoadBenchmark(Options options) {
    this.options = options;
  }

  public static void main(String[] args) throws Exception {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.err.println(usage());
      System.exit(2);
      return;
    }
    if (options.help) {
      System.out.println(usage());
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(ChildJvm::destroyAll, "load-cleanup"));
    try {
      new LoadBenchmark(options).run(args);
    } finally {
      ChildJvm.destroyAll();
    }
  }

  static String usage() {
    return String.join(
        "\n",
        "usage: java -cp benchmarks.jar dev.lineserver.benchmarks.load.LoadBenchmark [options]",
        "  --servers LIST        "
            + ServerKind.ids()
            + " (default: all; idle/latency: "
            + "linestring,netty-nio)",
        "  --connections LIST    default 1,16,1024 (latency: 16)",
        "  --line-length LIST    bytes per line including LF; default 16,64,512 (latency: 64)",
        "  --io-threads LIST     'default' and/or a count for every event-loop server;"
            + " default: default,2",
        "  --rounds N            default 3",
        "  --duration S          measured seconds per run; default 10",
        "  --warmup S            seconds before measuring; default 5",
        "  --client-threads N    load client selector threads; default 1",
        "  --java PATH           java for the child JVMs; default: this JVM's",
        "  --server-jvm-args S   space-separated; default: " + String.join(" ", DEFAULT_SERVER_JVM),
        "  --log-dir DIR         children's stderr; default: a new temp directory",
        "  --idle-memory [N]     bytes per idle connection with N connections (default 10000)",
        "  --latency             send-to-sink latency at --rate lines/s",
        "  --rate N              default: half the lower quick-measured rate of the servers",
        "  --ack                 request/acknowledge: each line is answered with ACK LF; rate ="
            + " ACKs received/s (defaults: --servers "
            + ids(defaultAckServers())
            + " --connections 16 --line-length 64 --io-threads default)",
        "  --ack-window N        lines a client connection sends past its last ACK; default "
            + DEFAULT_ACK_WINDOW,
        "  --throughput          also run the throughput matrix with --idle-memory/--latency/--ack",
        "  --dry-run             print the header and the duration estimate, run nothing");
  }

  private void run(String[] args) throws Exception {
    header(args);
    if (options.dryRun) {
      return;
    }
    Files.createDirectories(options.logDir);
    if (options.throughput) {
      matrix(throughputMatrix());
    }
    if (options.ack) {
      matrix(ackMatrix());
    }
    if (options.idleMemory > 0) {
      idleMemory();
    }
    if (options.latency) {
      latency();
    }
  }

  private void header(String[] args) throws IOException, InterruptedException {
    out.println("## line-server load benchmark");
    out.println();
    out.println("- Date: " + Instant.now());
    out.println(
        "- Machine: "
            + Runtime.getRuntime().availableProcessors()
            + " cores ("
            + cpuModel()
            + "), "
            + System.getProperty("os.name")
            + " "
            + System.getProperty("os.version")
            + " "
            + System.getProperty("os.arch")
            + ", "
            + osRelease());
    String version = javaVersion();
    out.println("- Child JVMs: `" + options.java + "`: " + version);
    Matcher feature = Pattern.compile("version \"(\\d+)").matcher(version);
    childFeature = feature.find() ? Integer.parseInt(feature.group(1)) : 0;
    if (childFeature >= 24) {
      out.println(
          "- Note: Netty 4.2 on JDK 25+ turns its sun.misc.Unsafe use off by default"
              + " (io.netty.noUnsafe) unless the JVM runs with"
              + " `--sun-misc-unsafe-memory-access=allow`, and JDK 24+ warns about epoll's native"
              + " access without `--enable-native-access=ALL-UNNAMED`; to use them, add both to"
              + " --server-jvm-args (they then apply to every server alike).");
    }
    out.println("- Server JVM flags (all servers): `" + String.join(" ", options.serverJvm) + "`");
    out.println("- Client JVM flags: `" + String.join(" ", CLIENT_JVM) + "`");
    out.println(
        "- Command: `java -cp "
            + System.getProperty("java.class.path")
            + " "
            + LoadBenchmark.class.getName()
            + (args.length == 0 ? "" : " " + String.join(" ", args))
            + "`");
    out.println("- Child logs: " + options.logDir);
    out.printf(Locale.ROOT, "- Estimated duration: ~%d min%n", (estimateSeconds() + 59) / 60);
    out.println(
        "- Loopback only; the client and the server share the machine's cores, so absolute"
            + " numbers are lower than with separate hosts.");
    out.println();
  }

  /** A rough duration of the whole run: each measurement's warmup, duration and overhead. */
  private long estimateSeconds() {
    long seconds = 0;
    int perRun = options.warmup + options.duration + OVERHEAD_SECONDS;
    for (Matrix matrix : matrices()) {
      seconds += (long) matrix.measurements(childFeature, options.rounds) * perRun;
    }
    List<ServerKind> pair = options.serversGiven ? options.servers : defaultPair();
    if (options.idleMemory > 0) {
      seconds += (long) pair.size() * (10 + options.idleMemory / 1000);
    }
    if (options.latency) {
      seconds += (long) pair.size() * options.rounds * perRun;
      if (options.rate <= 0) {
        seconds += (long) pair.size() * (2 + 3 + OVERHEAD_SECONDS);
      }
    }
    return seconds;
  }

  // ---------------------------------------------------------------- throughput

  private record Config(int connections, int lineLength, int ioThreads) {}

  /**
   * One table of measurements: every server at every configuration, {@code rounds} times; with
   * {@code ack}, of ACKs received rather than lines counted at the sink.
   */
  private record Matrix(
      boolean ack,
      List<ServerKind> servers,
      List<Integer> connections,
      List<Integer> lineLengths,
      List<Integer> ioThreads) {

    List<Config> configs() {
      List<Config> configs = new ArrayList<>();
      for (int threads : ioThreads) {
        for (int c : connections) {
          for (int length : lineLengths) {
            configs.add(new Config(c, length, threads));
          }
        }
      }
      return configs;
    }

    List<ServerKind> applicable(int threads) {
      List<ServerKind> applicable = new ArrayList<>();
      for (ServerKind kind : servers) {
        if (threads == 0 || kind.ioThreadsKnob) {
          applicable.add(kind);
        }
      }
      return applicable;
    }

    /**
     * The measurements that cost a full run: on JDK 17-20 the virtual server is only a note, and
     * with {@code ack} so is every server without an ACK mode.
     */
    int measurements(int childFeature, int rounds) {
      boolean noVirtual = childFeature > 0 && childFeature < 21;
      int n = 0;
      for (Config config : configs()) {
        for (ServerKind kind : applicable(config.ioThreads)) {
          if (!(noVirtual && kind == ServerKind.VIRTUAL) && (!ack || kind.acks())) {
            n += rounds;
          }
        }
      }
      return n;
    }
  }

  private List<Matrix> matrices() {
    List<Matrix> matrices = new ArrayList<>();
    if (options.throughput) {
      matrices.add(throughputMatrix());
    }
    if (options.ack) {
      matrices.add(ackMatrix());
    }
    return matrices;
  }

  private Matrix throughputMatrix() {
    return new Matrix(
        false, options.servers, options.connections, options.lineLengths, options.ioThreads);
  }

  private Matrix ackMatrix() {
    return new Matrix(
        true,
        options.serversGiven ? options.servers : defaultAckServers(),
        options.connectionsGiven ? options.connections : List.of(16),
        options.lengthsGiven ? options.lineLengths : List.of(64),
        options.ioThreadsGiven ? options.ioThreads : List.of(0));
  }

  private void matrix(Matrix matrix) throws InterruptedException {
    List<Config> configs = matrix.configs();
    int measurements = matrix.measurements(childFeature, options.rounds);
    long seconds = (long) measurements * (options.warmup + options.duration + OVERHEAD_SECONDS);
    out.printf(
        Locale.ROOT,
        "### %s%n%nEstimated duration: ~%d min (%d measurements × ~%d s: warmup %d s +"
            + " %d s measured + ~%d s JVM start and teardown).%n%n",
        matrix.ack ? "Request/acknowledge" : "Throughput",
        (seconds + 59) / 60,
        measurements,
        options.warmup + options.duration + OVERHEAD_SECONDS,
        options.warmup,
        options.duration,
        OVERHEAD_SECONDS);
    String unit = matrix.ack ? "ACKs" : "lines";
    if (matrix.ack) {
      out.println(
          "The server answers every line with `ACK` LF (4 bytes, the same from every server):"
              + " line-server's String sink with `connection.sendLine(\"ACK\")`, its byte sink with"
              + " `connection.send(byte[])` of one preallocated array, Netty with `ctx.write` of a"
              + " duplicate of one shared direct buffer per line (void promise) and `ctx.flush()`"
              + " in `channelReadComplete`. Each client connection writes its chunk of lines as in"
              + " the throughput table, but never more than "
              + options.ackWindow
              + " lines past the last one acknowledged (--ack-window), and its selector thread"
              + " reads and checks the ACKs between writes. ACKs received by the client per"
              + " second, median of "
              + options.rounds
              + " rounds ("
              + options.duration
              + " s each after "
              + options.warmup
              + " s warmup); MiB/s = ACKs/s × line length (the lines acknowledged). After each"
              + " round the client stops at a line boundary and waits until every line is"
              + " acknowledged: a round fails unless the client received exactly one ACK per line"
              + " it sent, the sink counted exactly those lines and the server refused no ACK.");
    } else {
      out.println(
          "Lines counted at the sink per second, median of "
              + options.rounds
              + " rounds ("
              + options.duration
              + " s each after "
              + options.warmup
              + " s warmup); MiB/s = lines/s × line length. `vs netty-nio` is the ratio of medians (to netty-nio-tls for a TLS server).");
    }
    out.println();
    out.println(
        "| connections | line bytes | I/O threads | server | median "
            + unit
            + "/s | MiB/s | vs netty-nio | rounds (M "
            + unit
            + "/s) |");
    out.println("|---:|---:|---|---|---:|---:|---:|---|");
    out.flush();
    int done = 0;
    for (Config config : configs) {
      List<ServerKind> servers = matrix.applicable(config.ioThreads);
      Map<ServerKind, List<Double>> rates = new EnumMap<>(ServerKind.class);
      Map<ServerKind, String> notes = new EnumMap<>(ServerKind.class);
      for (int round = 1; round <= options.rounds; round++) {
        for (ServerKind kind : servers) {
          if (notes.getOrDefault(kind, "").startsWith("skipped")) {
            continue;
          }
          if (kind == ServerKind.VIRTUAL && childFeature > 0 && childFeature < 21) {
            notes.put(
                kind, "skipped: virtual threads need JDK 21+ (child JVMs: " + childFeature + ")");
            continue;
          }
          if (matrix.ack && !kind.acks()) {
            notes.put(kind, "skipped: no ACK mode");
            continue;
          }
          done++;
          String what =
              String.format(
                  Locale.ROOT,
                  "[%d/%d] %s c=%d len=%d threads=%s round %d",
                  done,
                  measurements,
                  kind.id,
                  config.connections,
                  config.lineLength,
                  threadsLabel(config.ioThreads),
                  round);
          try {
            double rate =
                matrix.ack
                    ? acknowledged(
                        kind,
                        config.ioThreads,
                        config.connections,
                        config.lineLength,
                        options.warmup,
                        options.duration)
                    : throughput(
                        kind,
                        config.ioThreads,
                        config.connections,
                        config.lineLength,
                        options.warmup,
                        options.duration);
            rates.computeIfAbsent(kind, k -> new ArrayList<>()).add(rate);
            progress.printf(Locale.ROOT, "%s: %.3f M %s/s%n", what, rate / 1e6, unit);
          } catch (Skipped e) {
            notes.put(kind, "skipped: " + e.getMessage());
            progress.println(what + ": skipped: " + e.getMessage());
          } catch (IOException e) {
            notes.merge(kind, "round " + round + " failed: " + oneLine(e), (a, b) -> a + "; " + b);
            progress.println(what + ": FAILED: " + e.getMessage());
          }
        }
      }
      printRows(config, servers, rates, notes);
    }
    out.println();
    out.println(legend(matrix.servers));
    out.println();
    out.flush();
  }

  private void printRows(
      Config config,
      List<ServerKind> servers,
      Map<ServerKind, List<Double>> rates,
      Map<ServerKind, String> notes) {
    for (ServerKind kind : servers) {
      List<Double> nettyRates = rates.get(kind.reference());
      double netty = nettyRates == null ? Double.NaN : median(nettyRates);
      String prefix =
          String.format(
              Locale.ROOT,
              "| %d | %d | %s | %s |",
              config.connections,
              config.lineLength,
              threadsLabel(config.ioThreads),
              kind.id);
      List<Double> list = rates.get(kind);
      if (list == null || list.isEmpty()) {
        out.println(prefix + " – | – | – | " + notes.getOrDefault(kind, "no result") + " |");
        continue;
      }
      double median = median(list);
      StringBuilder rounds = new StringBuilder();
      for (double rate : list) {
        rounds.append(rounds.length() == 0 ? "" : ", ").append(format("%.2f", rate / 1e6));
      }
      if (notes.containsKey(kind)) {
        rounds.append("; ").append(notes.get(kind));
      }
      out.println(
          prefix
              + " "
              + format("%,.0f", median)
              + " | "
              + format("%.0f", median * config.lineLength / (1024.0 * 1024))
              + " | "
              + (Double.isNaN(netty) ? "–" : format("%.2f", median / netty))
              + " | "
              + rounds
              + " |");
    }
    out.flush();
  }

  private String legend(List<ServerKind> servers) {
    int cores = Runtime.getRuntime().availableProcessors();
    StringBuilder legend = new StringBuilder("Servers:\n\n");
    for (ServerKind kind : servers) {
      legend.append("- `").append(kind.id).append("`: ").append(kind.description).append('\n');
    }
    legend
        .append("\nI/O threads `default` means each server's own default on this ")
        .append(cores)
        .append("-core machine: line-server ")
        .append(cores)
        .append(" I/O threads + 1 acceptor; Netty ")
        .append(2 * cores)
        .append(" worker event loops + 1 boss; raw ")
        .append(cores)
        .append(" selector threads + 1 acceptor; blocking/virtual one thread per connection.")
        .append(" A number sets the I/O (worker) threads of every event-loop server;")
        .append(" the thread-per-connection servers have no such knob and appear only in the")
        .append(" `default` rows. The raw server looks at no byte: it counts bytes read and")
        .append(" divides by the line length, so it bounds what loopback and the client deliver.");
    return legend.toString();
  }

  private double throughput(
      ServerKind kind, int ioThreads, int connections, int lineLength, int warmup, int duration)
      throws IOException, InterruptedException, Skipped {
    try (ChildJvm server = startServer(kind, ioThreads, "count", lineLength)) {
      int port = port(server);
      try (ChildJvm client =
          startClient(
              kind,
              kind.tls() ? "tls" : "throughput",
              port,
              connections,
              lineLength,
              Math.min(options.clientThreads, connections))) {
        go(server, client, connections);
        TimeUnit.SECONDS.sleep(warmup);
        long sentBefore = client.ask("SENT", "SENT")[0];
        long[] first = server.ask("COUNT", "COUNT");
        TimeUnit.SECONDS.sleep(duration);
        long[] last = server.ask("COUNT", "COUNT");
        long sent = client.ask("SENT", "SENT")[0];
        progress.printf(
            Locale.ROOT,
            "  client wrote %.0f MiB/s; sink counted %.0f MiB/s%n",
            (sent - sentBefore) * 1e9 / (last[1] - first[1]) / 1048576,
            (last[0] - first[0]) * (double) lineLength * 1e9 / (last[1] - first[1]) / 1048576);
        // A writer adds to SENT after write() returns, so the server may count up to one write
        // per connection (at most one 256 KiB chunk) before the client does.
        if (last[0] * lineLength > sent + connections * 256L * 1024) {
          throw new IOException(
              kind.id
                  + " counted "
                  + last[0]
                  + " lines but the client sent only "
                  + sent
                  + " bytes");
        }
        if (last[2] != connections) {
          progress.println(
              "  warning: "
                  + kind.id
                  + " reports "
                  + last[2]
                  + " open connections, not "
                  + connections);
        }
        return (last[0] - first[0]) * 1e9 / (last[1] - first[1]);
      }
    }
  }

  /**
   * ACKs received by the client per second, after which the client stops and must have received
   * exactly one ACK per line sent, the sink must have counted exactly those lines and the server
   * must have refused no ACK; else an {@link IOException} says what differed.
   */
  private double acknowledged(
      ServerKind kind, int ioThreads, int connections, int lineLength, int warmup, int duration)
      throws IOException, InterruptedException, Skipped {
    try (ChildJvm server = startServer(kind, ioThreads, "ack", lineLength)) {
      int port = port(server);
      try (ChildJvm client =
          startClient(
              kind,
              "ack",
              port,
              connections,
              lineLength,
              Math.min(options.clientThreads, connections),
              options.ackWindow)) {
        go(server, client, connections);
        TimeUnit.SECONDS.sleep(warmup);
        long sentBefore = client.ask("SENT", "SENT")[0];
        long[] first = client.ask("ACKS", "ACKS");
        TimeUnit.SECONDS.sleep(duration);
        long[] last = client.ask("ACKS", "ACKS");
        long sent = client.ask("SENT", "SENT")[0];
        double rate = (last[0] - first[0]) * 1e9 / (last[1] - first[1]);
        progress.printf(
            Locale.ROOT,
            "  client wrote %.0f MiB/s; received %.0f MiB/s of lines acknowledged%n",
            (sent - sentBefore) * 1e9 / (last[1] - first[1]) / 1048576,
            rate * lineLength / 1048576);
        client.send("STOP");
        String[] drained =
            client.expect(Duration.ofSeconds(60), "DRAINED ").split(" ", -1); // lines acks errors
        long lines = Long.parseLong(drained[1]);
        long acks = Long.parseLong(drained[2]);
        long errors = Long.parseLong(drained[3]);
        long[] count = server.ask("COUNT", "COUNT");
        String check =
            String.format(
                Locale.ROOT,
                "client sent %,d lines, received %,d ACKs, %d errors; sink counted %,d lines,"
                    + " server refused %,d ACKs, %d of %d connections open",
                lines,
                acks,
                errors,
                count[0],
                count[3],
                count[2],
                connections);
        progress.println("  " + check);
        if (errors != 0 || acks != lines || count[0] != lines || count[3] != 0) {
          throw new IOException("ACK MISMATCH: " + check + " (see " + options.logDir + ")");
        }
        if (count[2] != connections) {
          progress.println("  warning: " + kind.id + " reports " + count[2] + " open connections");
        }
        return rate;
      }
    }
  }

  // ---------------------------------------------------------------- idle memory

  private void idleMemory() throws InterruptedException {
    int n = options.idleMemory;
    List<ServerKind> servers = options.serversGiven ? options.servers : defaultPair();
    out.println("### Memory per idle connection");
    out.println();
    out.println(
        n
            + " connections each send one line and stay open; the server waits until its sink"
            + " has counted "
            + n
            + " lines and it reports "
            + n
            + " open connections, runs System.gc() three times (full GCs with ParallelGC) and"
            + " reports the heap used after the last GC (memory pools' collection usage); minus the same before connecting, divided by "
            + n
            + ". Direct = JDK direct buffer pool + Netty's own direct counter (it also holds"
            + " per-thread buffers made at the first read, e.g. the JDK's 64 KiB temporary direct"
            + " buffer per thread that reads into a heap buffer, so it is not all per connection);"
            + " RSS includes"
            + " both, thread stacks and malloc arenas, but not kernel socket buffers. Servers at"
            + " their default I/O threads.");
    out.println();
    out.println(
        "| server | connections | heap B/conn | direct B/conn | RSS B/conn | heap before → after"
            + " (MiB) |");
    out.println("|---|---:|---:|---:|---:|---|");
    for (ServerKind kind : servers) {
      try (ChildJvm server = startServer(kind, 0, "count", 0)) {
        int port = port(server);
        long limit = server.ask("INFO", "INFO")[1];
        progress.println(
            "idle memory "
                + kind.id
                + ": server open files limit "
                + limit
                + " (HotSpot raises the soft limit to the hard one, -XX:+MaxFDLimit)");
        if (limit >= 0 && n + 200L > limit) {
          throw new IOException(
              "server open files limit " + limit + " is too low for " + n + " connections");
        }
        server.ask("GC", "HEAP");
        long[] before = server.ask("GC", "HEAP");
        try (ChildJvm client = startClient(kind, "idle", port, n, 0, 0)) {
          go(server, client, n);
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
          long[] count;
          do {
            TimeUnit.MILLISECONDS.sleep(200);
            count = server.ask("COUNT", "COUNT");
          } while ((count[0] < n || count[2] < n) && System.nanoTime() < deadline);
          if (count[0] != n || count[2] != n) {
            throw new IOException(
                "server counted " + count[0] + " lines on " + count[2] + " open connections");
          }
          long[] after = server.ask("GC", "HEAP");
          out.println(
              "| "
                  + kind.id
                  + " | "
                  + n
                  + " | "
                  + format("%,.0f", (after[0] - before[0]) / (double) n)
                  + " | "
                  + format("%,.0f", (after[1] - before[1]) / (double) n)
                  + " | "
                  + format("%,.0f", (after[2] - before[2]) / (double) n)
                  + " | "
                  + format("%.1f → %.1f", before[0] / 1048576.0, after[0] / 1048576.0)
                  + " |");
          out.flush();
        }
      } catch (Skipped | IOException e) {
        out.println("| " + kind.id + " | " + n + " | – | – | – | failed: " + oneLine(e) + " |");
        progress.println("idle memory " + kind.id + ": " + e.getMessage());
      }
    }
    out.println();
  }

  // ---------------------------------------------------------------- latency

  private void latency() throws InterruptedException {
    List<ServerKind> servers = options.serversGiven ? options.servers : defaultPair();
    int connections = options.connectionsGiven ? options.connections.get(0) : 16;
    int length = options.lengthsGiven ? options.lineLengths.get(0) : 64;
    out.println("### Send-to-sink latency");
    out.println();
    long rate = options.rate;
    if (rate <= 0) {
      double lowest = Double.MAX_VALUE;
      for (ServerKind kind : servers) {
        try {
          double measured = throughput(kind, 0, connections, length, 2, 3);
          progress.printf(
              Locale.ROOT, "quick throughput %s: %.3f M lines/s%n", kind.id, measured / 1e6);
          lowest = Math.min(lowest, measured);
        } catch (Skipped | IOException e) {
          progress.println("quick throughput " + kind.id + ": " + e.getMessage());
        }
      }
      if (lowest == Double.MAX_VALUE) {
        out.println("No server could be measured; no latency run.");
        return;
      }
      rate = Math.max(1, (long) (lowest / 2));
      out.println(
          "Rate: "
              + format("%,d", rate)
              + " lines/s = half the lower of the servers' quick throughput (2 s warmup, 3 s)"
              + " at the same connections and line length.");
    } else {
      out.println("Rate: " + format("%,d", rate) + " lines/s (--rate).");
    }
    out.println();
    out.println(
        "The client stamps each line with its scheduled send time (System.nanoTime(), 19 digits"
            + " in the second field) and sends at a fixed rate round-robin over "
            + connections
            + " connections of "
            + length
            + "-byte lines, TCP_NODELAY; the sink parses the stamp and records System.nanoTime()"
            + " minus it in an HdrHistogram. Assumes System.nanoTime() is CLOCK_MONOTONIC,"
            + " which Linux shares across processes, so the two JVMs' clocks agree. Scheduled"
            + " (not actual) send times avoid coordinated omission: a stalled client or server"
            + " shows as latency. The client wakes every ≥ ~50 µs (parkNanos, no spinning on a shared"
            + " machine) and sends every line due since, so latency includes up to one wake-up"
            + " interval of client-side batching. Histogram reset after "
            + options.warmup
            + " s warmup, then "
            + options.duration
            + " s recorded. Times in µs.");
    out.println();
    out.println("| server | round | achieved lines/s | p50 | p90 | p99 | p99.9 | max | samples |");
    out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (int round = 1; round <= options.rounds; round++) {
      for (ServerKind kind : servers) {
        try {
          out.println(latencyRow(kind, round, connections, length, rate));
        } catch (Skipped | IOException e) {
          out.println("| " + kind.id + " | " + round + " | failed: " + oneLine(e) + " |||||||");
          progress.println("latency " + kind.id + ": " + e.getMessage());
        }
        out.flush();
      }
    }
    out.println();
  }

  private String latencyRow(ServerKind kind, int round, int connections, int length, long rate)
      throws IOException, InterruptedException, Skipped {
    try (ChildJvm server = startServer(kind, 0, "latency", length)) {
      int port = port(server);
      try (ChildJvm client = startClient(kind, "latency", port, connections, length, rate)) {
        go(server, client, connections);
        TimeUnit.SECONDS.sleep(options.warmup);
        server.ask("HIST", "HIST");
        long[] first = server.ask("COUNT", "COUNT");
        TimeUnit.SECONDS.sleep(options.duration);
        long[] h = server.ask("HIST", "HIST");
        long[] last = server.ask("COUNT", "COUNT");
        double achieved = (last[0] - first[0]) * 1e9 / (last[1] - first[1]);
        if (achieved < rate * 0.95) {
          progress.printf(
              Locale.ROOT, "  warning: %s reached %.0f of %d lines/s%n", kind.id, achieved, rate);
        }
        if (h[6] > 0) {
          progress.println("  warning: " + h[6] + " negative latencies (clocks disagree?)");
        }
        return "| "
            + kind.id
            + " | "
            + round
            + " | "
            + format("%,.0f", achieved)
            + " | "
            + micros(h[1])
            + " | "
            + micros(h[2])
            + " | "
            + micros(h[3])
            + " | "
            + micros(h[4])
            + " | "
            + micros(h[5])
            + " | "
            + format("%,d", h[0])
            + " |";
      }
    }
  }

  // ---------------------------------------------------------------- children

  private ChildJvm startServer(ServerKind kind, int ioThreads, String mode, int lineLength)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(options.java);
    command.addAll(options.serverJvm);
    command.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            ServerMain.class.getName(),
            kind.id,
            Integer.toString(ioThreads),
            mode,
            Integer.toString(lineLength)));
    return ChildJvm.start(++children + "-" + kind.id + "-server", command, options.logDir);
  }

  private ChildJvm startClient(ServerKind kind, String mode, int port, long... args)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(options.java);
    command.addAll(CLIENT_JVM);
    command.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            ClientMain.class.getName(),
            mode,
            Integer.toString(port)));
    for (long arg : args) {
      command.add(Long.toString(arg));
    }
    return ChildJvm.start(children + "-" + kind.id + "-client", command, options.logDir);
  }

  /**
   * Waits until the client has connected and the server reports every connection open (accepted and
   * registered), then lets the client send.
   */
  private void go(ChildJvm server, ChildJvm client, int connections)
      throws IOException, InterruptedException {
    client.expect(Duration.ofMinutes(10), "CONNECTED ");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    long open;
    while ((open = server.ask("COUNT", "COUNT")[2]) < connections) {
      if (System.nanoTime() - deadline > 0) {
        progress.println(
            "  warning: the server reports " + open + " of " + connections + " connections open");
        break;
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
    client.send("GO");
    client.expect(Duration.ofSeconds(60), "READY");
  }

  private static int port(ChildJvm server) throws IOException, InterruptedException, Skipped {
    String line = server.expect(Duration.ofSeconds(60), "PORT ", "UNSUPPORTED ");
    if (line.startsWith("UNSUPPORTED ")) {
      throw new Skipped(line.substring("UNSUPPORTED ".length()));
    }
    return Integer.parseInt(line.substring("PORT ".length()).trim());
  }

  /** A server that cannot run here (virtual threads on JDK 17, epoll unavailable). */
  private static final class Skipped extends Exception {
    private static final long serialVersionUID = 1L;

    Skipped(String message) {
      super(message);
    }
  }

  // ---------------------------------------------------------------- helpers

  private static List<ServerKind> defaultPair() {
    return List.of(ServerKind.LINE_STRING, ServerKind.NETTY_NIO);
  }

  private static List<ServerKind> defaultAckServers() {
    return List.of(ServerKind.LINE_STRING, ServerKind.LINE_BYTES, ServerKind.NETTY_NIO);
  }

  private static String ids(List<ServerKind> servers) {
    StringBuilder ids = new StringBuilder();
    for (ServerKind kind : servers) {
      ids.append(ids.length() == 0 ? "" : ",").append(kind.id);
    }
    return ids.toString();
  }

  static double median(List<Double> values) {
    double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int mid = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }

  private static String threadsLabel(int ioThreads) {
    return ioThreads == 0 ? "default" : Integer.toString(ioThreads);
  }

  private static String micros(long nanos) {
    return format("%,.1f", nanos / 1000.0);
  }

  private static String format(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }

  private static String oneLine(Exception e) {
    String message = e.getMessage();
    return message == null ? e.toString() : message.lines().findFirst().orElse("");
  }

  private static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException e) {
      return "unknown CPU";
    }
    return "unknown CPU";
  }

  private static String osRelease() {
    try {
      for (String line : Files.readAllLines(Path.of("/etc/os-release"))) {
        if (line.startsWith("PRETTY_NAME=")) {
          return line.substring("PRETTY_NAME=".length()).replace("\"", "");
        }
      }
    } catch (IOException e) {
      return "";
    }
    return "";
  }

  private String javaVersion() throws IOException, InterruptedException {
    Process process =
        new ProcessBuilder(options.java, "-version").redirectErrorStream(true).start();
    String version = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    process.waitFor();
    return String.join("; ", version.strip().lines().toList());
  }

  // ---------------------------------------------------------------- options

  private static final class Options {
    List<ServerKind> servers =
        Arrays.stream(ServerKind.values()).filter(kind -> !kind.tls()).toList();
    boolean serversGiven;
    List<Integer> connections = List.of(1, 16, 1024);
    boolean connectionsGiven;
    List<Integer> lineLengths = List.of(16, 64, 512);
    boolean lengthsGiven;
    List<Integer> ioThreads = List.of(0, 2);
    boolean ioThreadsGiven;
    boolean ack;
    int ackWindow = DEFAULT_ACK_WINDOW;
    int rounds = 3;
    int duration = 10;
    int warmup = 5;
    int clientThreads = 1;
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> serverJvm = DEFAULT_SERVER_JVM;
    Path logDir =
        Path.of(
            System.getProperty("java.io.tmpdir"), "line-server-load-" + System.currentTimeMillis());
    int idleMemory;
    boolean latency;
    boolean throughput = true;
    boolean throughputGiven;
    long rate;
    boolean help;
    boolean dryRun;

    static Options parse(String[] args) {
      Options o = new Options();
      for (int i = 0; i < args.length; i++) {
        String arg = args[i];
        switch (arg) {
          case "--servers" -> {
            o.servers = new ArrayList<>();
            for (String id : value(args, ++i, arg).split(",", -1)) {
              o.servers.add(ServerKind.parse(id.trim()));
            }
            o.serversGiven = true;
          }
          case "--connections" -> {
            o.connections = ints(value(args, ++i, arg), arg, 1, 19_000);
            o.connectionsGiven = true;
          }
          case "--line-length" -> {
            o.lineLengths = ints(value(args, ++i, arg), arg, Lines.MIN_LENGTH, 65_536);
            o.lengthsGiven = true;
          }
          case "--io-threads" -> {
            List<Integer> threads = new ArrayList<>();
            for (String t : value(args, ++i, arg).split(",", -1)) {
              threads.add(t.trim().equals("default") ? 0 : ints(t, arg, 1, 1024).get(0));
            }
            o.ioThreads = threads;
            o.ioThreadsGiven = true;
          }
          case "--rounds" -> o.rounds = ints(value(args, ++i, arg), arg, 1, 100).get(0);
          case "--duration" -> o.duration = ints(value(args, ++i, arg), arg, 1, 3600).get(0);
          case "--warmup" -> o.warmup = ints(value(args, ++i, arg), arg, 0, 3600).get(0);
          case "--client-threads" ->
              o.clientThreads = ints(value(args, ++i, arg), arg, 1, 64).get(0);
          case "--java" -> o.java = value(args, ++i, arg);
          case "--server-jvm-args" -> {
            String flags = value(args, ++i, arg).trim();
            o.serverJvm = flags.isEmpty() ? List.of() : List.of(flags.split("\\s+", -1));
          }
          case "--log-dir" -> o.logDir = Path.of(value(args, ++i, arg));
          case "--idle-memory" -> {
            o.idleMemory = 10_000;
            if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
              o.idleMemory = ints(args[++i], arg, 1, 19_000).get(0);
            }
          }
          case "--latency" -> o.latency = true;
          case "--ack" -> o.ack = true;
          case "--ack-window" -> o.ackWindow = ints(value(args, ++i, arg), arg, 1, 1 << 20).get(0);
          case "--rate" -> {
            o.rate = Long.parseLong(value(args, ++i, arg));
            if (o.rate < 1) {
              throw new IllegalArgumentException("--rate: " + o.rate + " (expected: >= 1)");
            }
          }
          case "--throughput" -> o.throughputGiven = true;
          case "--dry-run" -> o.dryRun = true;
          case "--help", "-h" -> o.help = true;
          default -> throw new IllegalArgumentException("unknown option: " + arg);
        }
      }
      o.throughput = o.throughputGiven || (o.idleMemory == 0 && !o.latency && !o.ack);
      if (o.latency) {
        int length = o.lengthsGiven ? o.lineLengths.get(0) : 64;
        if (length < Lines.MIN_LATENCY_LENGTH) {
          throw new IllegalArgumentException(
              "--latency needs --line-length >= " + Lines.MIN_LATENCY_LENGTH + ": " + length);
        }
      }
      return o;
    }

    private static String value(String[] args, int i, String option) {
      if (i >= args.length) {
        throw new IllegalArgumentException(option + ": missing value");
      }
      return args[i];
    }

    private static List<Integer> ints(String list, String option, int min, int max) {
      List<Integer> values = new ArrayList<>();
      for (String s : list.split(",", -1)) {
        int value;
        try {
          value = Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(option + ": " + s + " is not a number", e);
        }
        if (value < min || value > max) {
          throw new IllegalArgumentException(
              option + ": " + value + " (expected: " + min + ".." + max + ")");
        }
        values.add(value);
      }
      return values;
    }
  }
}
