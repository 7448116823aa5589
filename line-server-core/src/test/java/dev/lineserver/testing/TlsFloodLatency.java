package dev.lineserver.testing;

import static java.nio.charset.StandardCharsets.US_ASCII;

import dev.lineserver.ConnectionInfo;
import dev.lineserver.LineServer;
import dev.lineserver.LineServerListener;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import javax.net.ssl.SSLSocket;

/**
 * A load program, not a test: how long established TLS clients' lines take to reach the sink, first
 * on a quiet server, then while raw sockets flood it with ClientHellos (each costs the server a
 * full handshake's key exchange and signature, the sender nothing). Uses the public API only, so
 * that it runs against any build of the core. Arguments, all optional: ClientHellos per second
 * (600), seconds per phase (10), established clients (4), lines per second per client (250).
 */
public final class TlsFloodLatency {
  private static final int QUIET = 0;
  private static final int FLOOD = 1;
  private static final String[] PHASES = {"quiet", "flood"};
  private static final long ANSWER_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(2);

  private TlsFloodLatency() {}

  public static void main(String[] args) throws Exception {
    int floodRate = arg(args, 0, 600);
    int seconds = arg(args, 1, 10);
    int clients = arg(args, 2, 4);
    int lineRate = arg(args, 3, 250);
    Latencies latencies = new Latencies();
    try (LineServer server =
        LineServer.builder()
            .port(0)
            .tls(TestPki.shared().serverContext())
            .sink(latencies::arrived)
            .listener(
                new LineServerListener() {
                  @Override
                  public void handshakeFailed(ConnectionInfo connection, Exception error) {}
                })
            .start()) {
      InetSocketAddress address =
          new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port());
      byte[] hello = ClientHellos.of("TLSv1.3");

      Flood warmup = new Flood(address, hello, floodRate);
      warmup.runFor(TimeUnit.SECONDS.toNanos(Math.max(2, seconds / 2)));
      List<SSLSocket> sockets = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        sockets.add(connect(server));
      }
      long phaseNanos = TimeUnit.SECONDS.toNanos(seconds);
      long start = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
      List<Thread> senders = new ArrayList<>();
      for (SSLSocket socket : sockets) {
        Thread sender =
            new Thread(() -> send(socket, lineRate, start, phaseNanos), "flood-latency-client");
        sender.start();
        senders.add(sender);
      }
      LockSupport.parkNanos(start + phaseNanos - System.nanoTime());
      Flood flood = new Flood(address, hello, floodRate);
      flood.runFor(phaseNanos);
      for (Thread sender : senders) {
        sender.join();
      }
      for (SSLSocket socket : sockets) {
        socket.close();
      }

      System.out.printf(
          Locale.ROOT,
          "java %s, %d processors, %d I/O threads (default), %d clients x %d lines/s%n",
          System.getProperty("java.version"),
          Runtime.getRuntime().availableProcessors(),
          Runtime.getRuntime().availableProcessors(),
          clients,
          lineRate);
      System.out.printf(
          Locale.ROOT,
          "flood: %d ClientHellos/s asked, %.0f/s sent, %.0f/s answered with a ServerHello%n",
          floodRate,
          flood.sent.get() / (double) seconds,
          flood.answered.get() / (double) seconds);
      System.out.println("phase   lines   p50 ms   p90 ms   p99 ms  p99.9 ms   max ms");
      for (int phase = QUIET; phase <= FLOOD; phase++) {
        long[] sorted = latencies.sorted(phase);
        System.out.printf(
            Locale.ROOT,
            "%-5s %7d %8.2f %8.2f %8.2f %9.2f %8.2f%n",
            PHASES[phase],
            sorted.length,
            millis(sorted, 0.50),
            millis(sorted, 0.90),
            millis(sorted, 0.99),
            millis(sorted, 0.999),
            millis(sorted, 1.0));
      }
      System.out.printf(
          Locale.ROOT,
          "p99 flood / quiet: %.1f%n",
          millis(latencies.sorted(FLOOD), 0.99) / millis(latencies.sorted(QUIET), 0.99));
    }
  }

  private static int arg(String[] args, int index, int fallback) {
    return args.length > index ? Integer.parseInt(args[index]) : fallback;
  }

  private static SSLSocket connect(LineServer server) throws Exception {
    SSLSocket socket =
        (SSLSocket)
            TestPki.shared()
                .clientContext(null)
                .getSocketFactory()
                .createSocket(InetAddress.getLoopbackAddress(), server.port());
    socket.setEnabledProtocols(new String[] {"TLSv1.3"});
    socket.setTcpNoDelay(true);
    socket.startHandshake();
    return socket;
  }

  /** Sends {@code rate} lines a second, each its phase and send time, through both phases. */
  private static void send(SSLSocket socket, int rate, long start, long phaseNanos) {
    long period = TimeUnit.SECONDS.toNanos(1) / rate;
    try {
      OutputStream out = socket.getOutputStream();
      for (long next = start; next - (start + 2 * phaseNanos) < 0; next += period) {
        LockSupport.parkNanos(next - System.nanoTime());
        long now = System.nanoTime();
        int phase = now - (start + phaseNanos) < 0 ? QUIET : FLOOD;
        out.write((phase + " " + now + "\n").getBytes(US_ASCII));
        out.flush();
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static double millis(long[] sorted, double quantile) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int at = (int) Math.min(sorted.length - 1, Math.ceil(quantile * sorted.length) - 1);
    return sorted[Math.max(0, at)] / 1e6;
  }

  /** Each line's delay from its send to the sink, by phase; the sink runs on the I/O threads. */
  private static final class Latencies {
    private final long[][] nanos = {new long[1 << 16], new long[1 << 16]};
    private final int[] counts = new int[2];

    synchronized void arrived(String line) {
      long now = System.nanoTime();
      int space = line.indexOf(' ');
      int phase = Integer.parseInt(line.substring(0, space));
      long sent = Long.parseLong(line.substring(space + 1));
      if (counts[phase] == nanos[phase].length) {
        nanos[phase] = Arrays.copyOf(nanos[phase], 2 * counts[phase]);
      }
      nanos[phase][counts[phase]++] = now - sent;
    }

    synchronized long[] sorted(int phase) {
      long[] copy = Arrays.copyOf(nanos[phase], counts[phase]);
      Arrays.sort(copy);
      return copy;
    }
  }

  /**
   * Opens {@code rate} connections a second (open loop: whatever the server's pace), sends each a
   * ClientHello, and resets it once the server answers or after 2 s.
   */
  private static final class Flood {
    private final InetSocketAddress address;
    private final byte[] hello;
    private final long periodNanos;
    final AtomicLong sent = new AtomicLong();
    final AtomicLong answered = new AtomicLong();

    Flood(InetSocketAddress address, byte[] hello, int rate) {
      this.address = address;
      this.hello = hello;
      this.periodNanos = TimeUnit.SECONDS.toNanos(1) / rate;
    }

    private record Pending(SocketChannel channel, long sinceNanos) {}

    void runFor(long nanos) throws IOException {
      ByteBuffer answer = ByteBuffer.allocate(1);
      ArrayDeque<Pending> pending = new ArrayDeque<>();
      try (Selector selector = Selector.open()) {
        long end = System.nanoTime() + nanos;
        long next = System.nanoTime();
        while (System.nanoTime() - end < 0) {
          long wait = Math.max(1, TimeUnit.NANOSECONDS.toMillis(next - System.nanoTime()));
          selector.select(
              key -> {
                SocketChannel channel = (SocketChannel) key.channel();
                try {
                  if (key.isConnectable()) {
                    channel.finishConnect();
                    channel.write(ByteBuffer.wrap(hello));
                    key.interestOps(SelectionKey.OP_READ);
                  } else if (key.isReadable()) {
                    answer.clear();
                    if (channel.read(answer) > 0) {
                      answered.incrementAndGet();
                    }
                    reset(channel);
                  }
                } catch (IOException e) {
                  reset(channel);
                }
              },
              wait);
          long now = System.nanoTime();
          for (; next - now <= 0; next += periodNanos) {
            SocketChannel channel = SocketChannel.open();
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.SO_LINGER, 0);
            if (channel.connect(address)) {
              channel.write(ByteBuffer.wrap(hello));
              channel.register(selector, SelectionKey.OP_READ);
            } else {
              channel.register(selector, SelectionKey.OP_CONNECT);
            }
            pending.add(new Pending(channel, now));
            sent.incrementAndGet();
          }
          while (!pending.isEmpty()
              && (!pending.peek().channel().isOpen()
                  || now - pending.peek().sinceNanos() > ANSWER_TIMEOUT_NANOS)) {
            reset(pending.poll().channel());
          }
        }
        for (Pending left : pending) {
          reset(left.channel());
        }
      }
    }

    private static void reset(SocketChannel channel) {
      try {
        channel.close(); // SO_LINGER 0: a reset, no TIME_WAIT
      } catch (IOException e) {
        // gone already
      }
    }
  }
}
