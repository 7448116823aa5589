package dev.lineserver.benchmarks.load;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.HdrHistogram.Histogram;

/**
 * The server JVM: {@code ServerMain <server> <ioThreads, 0 = its default> <count|latency|ack>
 * <lineLength, for the raw server; 0 if unknown>}; with {@code ack} the server answers every line
 * with {@link Lines#ACK}. Prints {@code PORT <port>} (or {@code UNSUPPORTED <why>}), then answers
 * one command per stdin line on stdout, and exits at stdin EOF, so it dies with its parent.
 *
 * <ul>
 *   <li>{@code COUNT} → {@code COUNT <lines> <nanoTime> <open connections> <ACKs refused>}
 *   <li>{@code GC} → {@code HEAP <heap used after the last GC> <direct used> <RSS>} in bytes, after
 *       three {@code System.gc()}
 *   <li>{@code HIST} → {@code HIST <count> <p50> <p90> <p99> <p99.9> <max> <negative>} in ns since
 *       the last {@code HIST}
 *   <li>{@code INFO} → {@code INFO <JDK feature version> <open files limit>}
 * </ul>
 */
public final class ServerMain {
  private ServerMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 4) {
      System.err.println("usage: ServerMain <server> <ioThreads> <count|latency|ack> <lineLength>");
      System.exit(2);
    }
    Meter meter = new Meter("latency".equals(args[2]), Integer.parseInt(args[3]));
    boolean ack = "ack".equals(args[2]);
    BenchServer server;
    try {
      server = start(ServerKind.parse(args[0]), Integer.parseInt(args[1]), meter, ack);
    } catch (UnsupportedOperationException e) {
      reply("UNSUPPORTED " + e.getMessage());
      awaitEof();
      return;
    }
    reply("PORT " + server.port());
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String command;
    while ((command = in.readLine()) != null) {
      switch (command) {
        case "COUNT" ->
            reply(
                "COUNT "
                    + meter.lines()
                    + " "
                    + System.nanoTime()
                    + " "
                    + meter.open()
                    + " "
                    + meter.acksRefused());
        case "GC" -> reply(heap(server));
        case "HIST" -> reply(histogram(meter));
        case "INFO" -> reply("INFO " + Runtime.version().feature() + " " + openFilesLimit());
        default -> reply("ERROR unknown command " + command);
      }
    }
    Runtime.getRuntime().halt(0);
  }

  static BenchServer start(ServerKind kind, int ioThreads, Meter meter, boolean ack)
      throws Exception {
    if (ack && !kind.acks()) {
      throw new UnsupportedOperationException(kind.id + " answers no line (no ACK mode)");
    }
    return switch (kind) {
      case LINE_STRING -> new LineServerBench(false, ioThreads, meter, null, ack);
      case LINE_STRING_EXECUTOR -> LineServerBench.onExecutor(ioThreads, meter, ack);
      case LINE_BYTES -> new LineServerBench(true, ioThreads, meter, null, ack);
      case LINE_STRING_TLS ->
          new LineServerBench(false, ioThreads, meter, BenchTls.serverContext(), false);
      case NETTY_NIO -> new NettyServer(false, ioThreads, meter, null, ack);
      case NETTY_EPOLL -> new NettyServer(true, ioThreads, meter, null, ack);
      case NETTY_NIO_TLS ->
          new NettyServer(false, ioThreads, meter, BenchTls.serverContext(), false);
      case BLOCKING -> new ThreadPerConnectionServer(false, meter);
      case VIRTUAL -> new ThreadPerConnectionServer(true, meter);
      case RAW -> {
        if (meter.latency()) {
          throw new UnsupportedOperationException(
              "the raw server reads no line; it parses no stamp");
        }
        yield new RawNioServer(ioThreads, meter);
      }
    };
  }

  static void reply(String line) {
    System.out.println(line);
    System.out.flush();
  }

  /** Blocks until stdin ends, then halts: the parent is gone or done. */
  static void awaitEof() throws IOException {
    byte[] sink = new byte[256];
    while (System.in.read(sink) >= 0) {
      // Commands are ignored here.
    }
    Runtime.getRuntime().halt(0);
  }

  private static String heap(BenchServer server) throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    long heap = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      MemoryUsage afterGc = pool.getCollectionUsage();
      if (pool.getType() == MemoryType.HEAP && afterGc != null) {
        heap += afterGc.getUsed();
      }
    }
    long direct = server.extraDirectBytes();
    for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
      if (pool.getName().equals("direct")) {
        direct += pool.getMemoryUsed();
      }
    }
    return "HEAP " + heap + " " + direct + " " + procStatus("VmRSS:") * 1024;
  }

  private static String histogram(Meter meter) {
    Histogram h = meter.interval();
    return "HIST "
        + h.getTotalCount()
        + " "
        + h.getValueAtPercentile(50)
        + " "
        + h.getValueAtPercentile(90)
        + " "
        + h.getValueAtPercentile(99)
        + " "
        + h.getValueAtPercentile(99.9)
        + " "
        + h.getMaxValue()
        + " "
        + meter.negative();
  }

  /**
   * The soft limit of open files of this process, from {@code /proc/self/limits}; -1 if unknown.
   */
  static long openFilesLimit() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
        if (line.startsWith("Max open files")) {
          String[] parts = line.substring("Max open files".length()).trim().split("\\s+", -1);
          return parts[0].equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(parts[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }

  /** A {@code /proc/self/status} value in kB, e.g. {@code VmRSS:}; -1 if unknown. */
  private static long procStatus(String key) {
    try {
      List<String> lines = Files.readAllLines(Path.of("/proc/self/status"));
      for (String line : lines) {
        if (line.startsWith(key)) {
          return Long.parseLong(line.substring(key.length()).trim().split("\\s+", -1)[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }
}
