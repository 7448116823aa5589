package dev.lineserver.benchmarks.load;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.jspecify.annotations.Nullable;

/**
 * The load client JVM; connects to 127.0.0.1 only. Prints {@code CONNECTED <n>} once every
 * connection is established, starts sending at the {@code GO} command (replying {@code READY}),
 * answers {@code SENT} with {@code SENT <bytes written so far>}, and runs until stdin ends.
 *
 * <ul>
 *   <li>{@code throughput <port> <connections> <lineLength> <threads>}: non-blocking sockets shared
 *       round-robin by {@code threads} selector threads; each connection writes a pre-built 256 KiB
 *       direct chunk of whole lines over and over, as fast as the socket takes it.
 *   <li>{@code tls <port> <connections> <lineLength> <threads>}: one blocking TLS socket and
 *       platform thread per connection ({@code threads} is not used), writing the same chunk.
 *   <li>{@code ack <port> <connections> <lineLength> <threads> <window>}: as {@code throughput},
 *       but each connection also reads the server's ACKs (on the same selector thread: it reads
 *       whatever arrived before it writes again) and checks they are {@link Lines#ACK} over and
 *       over, and it writes no further than {@code window} lines past the last one acknowledged;
 *       once there, it writes again when half the window is free (so its writes stay large).
 *       TCP_NODELAY. {@code ACKS} is answered with {@code ACKS <ACKs received> <nanoTime>
 *       <errors>}; {@code STOP} ends the sending at the next line boundary, waits (at most {@value
 *       #DRAIN_SECONDS} s) until every line is acknowledged and answers {@code DRAINED <lines sent>
 *       <ACKs received> <errors>}. Errors are ACK bytes out of pattern, more ACKs than lines and
 *       connections the server closed, each also told on stderr; a drain that times out leaves the
 *       ACKs short of the lines.
 *   <li>{@code idle <port> <connections>}: each connection sends one line, then stays open.
 *   <li>{@code latency <port> <connections> <lineLength> <linesPerSecond>}: one thread sends lines
 *       round-robin at a fixed rate; each line carries its scheduled send time ({@code nanoTime}),
 *       so a client or server that falls behind shows as latency (no coordinated omission).
 * </ul>
 */
public final class ClientMain {
  /** Bytes handed to the kernel so far, for the orchestrator's sanity check. */
  private static final LongAdder SENT = new LongAdder();

  /** ACK mode: ACKs received, whole lines written once stopped, errors (see the class comment). */
  private static final LongAdder ACKS = new LongAdder();

  private static final LongAdder LINES_SENT = new LongAdder();
  private static final LongAdder ERRORS = new LongAdder();

  /** ACK mode: connections whose every line is written after {@code STOP}. */
  private static final LongAdder STOPPED = new LongAdder();

  private static volatile boolean stopping;

  private static final int DRAIN_SECONDS = 30;

  /** {@link Lines#ACK} as one big-endian int, as {@link ByteBuffer#getInt} reads it. */
  private static final int ACK_INT = ByteBuffer.wrap(Lines.ACK).getInt();

  /** Keeps the idle connections reachable until the JVM exits. */
  private static final List<SocketChannel> IDLE = new ArrayList<>();

  private ClientMain() {}

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[1]);
    List<Thread> senders =
        switch (args[0]) {
          case "throughput" ->
              throughput(
                  port,
                  Integer.parseInt(args[2]),
                  Integer.parseInt(args[3]),
                  Integer.parseInt(args[4]));
          case "tls" -> tls(port, Integer.parseInt(args[2]), Integer.parseInt(args[3]));
          case "ack" ->
              ack(
                  port,
                  Integer.parseInt(args[2]),
                  Integer.parseInt(args[3]),
                  Integer.parseInt(args[4]),
                  Integer.parseInt(args[5]));
          case "idle" -> idle(port, Integer.parseInt(args[2]));
          case "latency" ->
              latency(
                  port,
                  Integer.parseInt(args[2]),
                  Integer.parseInt(args[3]),
                  Long.parseLong(args[4]));
          default -> throw new IllegalArgumentException("mode: " + args[0]);
        };
    ServerMain.reply("CONNECTED " + args[2]);
    int connections = Integer.parseInt(args[2]);
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String command;
    while ((command = in.readLine()) != null) {
      if (command.equals("GO")) {
        for (Thread sender : senders) {
          sender.setDaemon(true);
          sender.start();
        }
        ServerMain.reply("READY");
      } else if (command.equals("SENT")) {
        ServerMain.reply("SENT " + SENT.sum());
      } else if (command.equals("ACKS")) {
        ServerMain.reply("ACKS " + ACKS.sum() + " " + System.nanoTime() + " " + ERRORS.sum());
      } else if (command.equals("STOP")) {
        stopping = true;
        for (Selector selector : ACK_SELECTORS) {
          selector.wakeup();
        }
        drain(connections);
      }
    }
    Runtime.getRuntime().halt(0);
  }

  private static SocketChannel connect(int port) throws IOException {
    SocketChannel channel = SocketChannel.open();
    channel.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    return channel;
  }

  private static List<Thread> throughput(int port, int connections, int lineLength, int threads)
      throws IOException {
    ByteBuffer chunk = Lines.chunk(lineLength, 42);
    Selector[] selectors = new Selector[Math.max(1, Math.min(threads, connections))];
    for (int i = 0; i < selectors.length; i++) {
      selectors[i] = Selector.open();
    }
    for (int i = 0; i < connections; i++) {
      SocketChannel channel = connect(port);
      channel.configureBlocking(false);
      // Each connection starts at a different line of the shared chunk, with its own position.
      ByteBuffer view = chunk.duplicate();
      view.position((i * lineLength) % chunk.limit());
      channel.register(selectors[i % selectors.length], SelectionKey.OP_WRITE, view);
    }
    List<Thread> writers = new ArrayList<>();
    for (int i = 0; i < selectors.length; i++) {
      Selector selector = selectors[i];
      writers.add(new Thread(() -> writeLoop(selector), "load-writer-" + (i + 1)));
    }
    return writers;
  }

  private static void writeLoop(Selector selector) {
    try {
      while (true) {
        selector.select();
        Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
        while (keys.hasNext()) {
          SelectionKey key = keys.next();
          keys.remove();
          SocketChannel channel = (SocketChannel) key.channel();
          ByteBuffer view = (ByteBuffer) key.attachment();
          for (int writes = 0; writes < 8; writes++) {
            int n = channel.write(view);
            SENT.add(n);
            if (!view.hasRemaining()) {
              view.rewind();
            }
            if (n == 0) {
              break;
            }
          }
        }
      }
    } catch (IOException e) {
      System.err.println("load client: " + e);
      Runtime.getRuntime().halt(1);
    }
  }

  /** ACK mode's selectors, woken at {@code STOP}. */
  private static final List<Selector> ACK_SELECTORS = new ArrayList<>();

  private static List<Thread> ack(
      int port, int connections, int lineLength, int threads, int window) throws IOException {
    if (Lines.ACK.length != Integer.BYTES) {
      throw new IllegalStateException("the ACK check reads 4-byte ACKs");
    }
    ByteBuffer chunk = Lines.chunk(lineLength, 42);
    Selector[] selectors = new Selector[Math.max(1, Math.min(threads, connections))];
    for (int i = 0; i < selectors.length; i++) {
      selectors[i] = Selector.open();
      ACK_SELECTORS.add(selectors[i]);
    }
    List<List<Acked>> owned = new ArrayList<>();
    for (int i = 0; i < selectors.length; i++) {
      owned.add(new ArrayList<>());
    }
    for (int i = 0; i < connections; i++) {
      SocketChannel channel = connect(port);
      // A window-bounded sender's writes can end in a small segment: Nagle would hold it until the
      // server's TCP ACK, which the server may delay (40 ms) when it has no reply left to carry it.
      channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
      channel.configureBlocking(false);
      ByteBuffer view = chunk.duplicate();
      view.position((i * lineLength) % chunk.limit());
      Acked connection = new Acked(i, channel, view, lineLength, window);
      connection.key =
          channel.register(
              selectors[i % selectors.length],
              SelectionKey.OP_READ | SelectionKey.OP_WRITE,
              connection);
      owned.get(i % selectors.length).add(connection);
    }
    List<Thread> loops = new ArrayList<>();
    for (int i = 0; i < selectors.length; i++) {
      Selector selector = selectors[i];
      List<Acked> mine = owned.get(i);
      loops.add(new Thread(() -> ackLoop(selector, mine), "load-ack-" + (i + 1)));
    }
    return loops;
  }

  /**
   * One selector thread's connections: reads the ACKs that arrived, then writes what the socket and
   * the window take. After {@code STOP}, writes up to the next line boundary and no further.
   */
  private static void ackLoop(Selector selector, List<Acked> connections) {
    ByteBuffer in = ByteBuffer.allocateDirect(64 * 1024);
    boolean stopSeen = false;
    try {
      while (true) {
        selector.select();
        if (stopping && !stopSeen) {
          stopSeen = true;
          for (Acked connection : connections) {
            connection.stop();
          }
        }
        Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
        while (keys.hasNext()) {
          SelectionKey key = keys.next();
          keys.remove();
          Acked connection = (Acked) key.attachment();
          if (key.isValid() && key.isReadable()) {
            connection.read(in);
          }
          if (key.isValid() && key.isWritable()) {
            connection.write();
          }
        }
      }
    } catch (IOException e) {
      System.err.println("ack client: " + e);
      Runtime.getRuntime().halt(1);
    }
  }

  /** After {@code STOP}: waits until every line is acknowledged, then answers {@code DRAINED}. */
  private static void drain(int connections) throws InterruptedException {
    long deadline = System.nanoTime() + DRAIN_SECONDS * 1_000_000_000L;
    while (System.nanoTime() - deadline < 0
        && (STOPPED.sum() < connections || ACKS.sum() < LINES_SENT.sum())
        && ERRORS.sum() == 0) {
      Thread.sleep(5);
    }
    if (ERRORS.sum() > 0) {
      System.err.println(
          "ack client: stopped waiting for the drain at the first error; "
              + STOPPED.sum()
              + " of "
              + connections
              + " connections had written their last line (only those count as sent)");
    } else if (STOPPED.sum() < connections) {
      System.err.println(
          "ack client: only "
              + STOPPED.sum()
              + " of "
              + connections
              + " connections wrote their last line within "
              + DRAIN_SECONDS
              + " s");
      ERRORS.increment();
    } else if (ACKS.sum() < LINES_SENT.sum()) {
      System.err.println(
          "ack client: "
              + (LINES_SENT.sum() - ACKS.sum())
              + " of "
              + LINES_SENT.sum()
              + " lines not acknowledged within "
              + DRAIN_SECONDS
              + " s");
    }
    Thread.sleep(100); // an ACK too many, should one come, arrives within this
    ServerMain.reply("DRAINED " + LINES_SENT.sum() + " " + ACKS.sum() + " " + ERRORS.sum());
  }

  /** One ACK-mode connection; its selector thread alone touches it. */
  private static final class Acked {
    private final int index;
    private final SocketChannel channel;
    private final ByteBuffer view;
    private final int lineLength;
    private final long window;

    /** Bytes of window that must be free before a connection stopped by it writes again. */
    private final long resume;

    @Nullable SelectionKey key;
    private long written; // bytes
    private long acks;
    private int phase; // bytes of the current ACK seen
    private long stopAt = Long.MAX_VALUE; // bytes: the end of the last line to write
    private boolean stopped;
    private boolean failed;

    Acked(int index, SocketChannel channel, ByteBuffer view, int lineLength, int window) {
      this.index = index;
      this.channel = channel;
      this.view = view;
      this.lineLength = lineLength;
      this.window = window;
      this.resume = Math.max(1, window / 2) * (long) lineLength;
    }

    void stop() {
      stopAt = (written + lineLength - 1) / lineLength * lineLength;
      write();
    }

    /** Writes up to 8 times, within the window and {@code stopAt}; then waits for ACKs if shut. */
    void write() {
      if (failed) {
        return;
      }
      long allowed = Math.min((acks + window) * lineLength, stopAt) - written;
      try {
        for (int writes = 0; writes < 8 && allowed > 0; writes++) {
          int limit = view.limit();
          if (allowed < view.remaining()) {
            view.limit(view.position() + (int) allowed);
          }
          int n = channel.write(view);
          view.limit(limit);
          SENT.add(n);
          written += n;
          allowed -= n;
          if (!view.hasRemaining()) {
            view.rewind();
          }
          if (n == 0) {
            break;
          }
        }
      } catch (IOException e) {
        fail("write failed: " + e);
        return;
      }
      if (written == stopAt && !stopped) {
        stopped = true;
        LINES_SENT.add(written / lineLength);
        STOPPED.increment();
      }
      if (allowed <= 0) {
        interest(SelectionKey.OP_READ); // until an ACK opens the window again
      }
    }

    /** Reads what arrived (up to 4 buffers), checks and counts the ACKs in it. */
    void read(ByteBuffer in) {
      if (failed) {
        return;
      }
      long before = acks;
      try {
        for (int reads = 0; reads < 4; reads++) {
          in.clear();
          int n = channel.read(in);
          if (n < 0) {
            fail("the server closed the connection");
            return;
          }
          in.flip();
          check(in);
          if (n < in.capacity()) {
            break;
          }
        }
      } catch (IOException e) {
        fail("read failed: " + e);
        return;
      }
      ACKS.add(acks - before);
      if (acks > written / lineLength) {
        fail("more ACKs than lines");
        return;
      }
      long free = Math.min((acks + window) * lineLength, stopAt) - written;
      if (acks != before && free > 0 && (free >= resume || written + free == stopAt)) {
        interest(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
      }
    }

    private void check(ByteBuffer in) {
      int i = in.position();
      int end = in.limit();
      while (phase != 0 && i < end) {
        checkByte(in, i++);
      }
      for (; end - i >= Integer.BYTES; i += Integer.BYTES) {
        if (in.getInt(i) != ACK_INT) {
          for (int j = i; j < i + Integer.BYTES; j++) {
            checkByte(in, j);
          }
          return;
        }
        acks++;
      }
      while (i < end) {
        checkByte(in, i++);
      }
    }

    private void checkByte(ByteBuffer in, int i) {
      if (in.get(i) != Lines.ACK[phase]) {
        fail(
            "ACK byte "
                + (acks * Lines.ACK.length + phase)
                + " is "
                + (in.get(i) & 0xff)
                + ", expected "
                + (Lines.ACK[phase] & 0xff));
        phase = 0;
        return;
      }
      if (++phase == Lines.ACK.length) {
        phase = 0;
        acks++;
      }
    }

    private void interest(int ops) {
      SelectionKey k = key;
      if (k != null && k.isValid() && k.interestOps() != ops) {
        k.interestOps(ops);
      }
    }

    private void fail(String why) {
      if (!failed) {
        failed = true;
        ERRORS.increment();
        System.err.println(
            "ack client: connection "
                + index
                + ": "
                + why
                + " ("
                + written / lineLength
                + " whole lines written, "
                + acks
                + " ACKs)");
        SelectionKey k = key;
        if (k != null) {
          k.cancel();
        }
      }
    }
  }

  /**
   * One blocking TLS socket per connection, each with a platform thread writing the pre-built chunk
   * over and over in 16 KiB writes (one TLS record each), offering only {@link BenchTls#PROTOCOL}
   * and {@link BenchTls#CIPHER_SUITE}. The handshakes are done before {@code CONNECTED}.
   */
  private static List<Thread> tls(int port, int connections, int lineLength)
      throws IOException, GeneralSecurityException {
    ByteBuffer direct = Lines.chunk(lineLength, 42);
    byte[] chunk = new byte[direct.remaining()];
    direct.get(chunk);
    SSLSocketFactory factory = BenchTls.trustingClientContext().getSocketFactory();
    List<Thread> writers = new ArrayList<>();
    for (int i = 0; i < connections; i++) {
      SSLSocket socket = (SSLSocket) factory.createSocket(InetAddress.getLoopbackAddress(), port);
      socket.setEnabledProtocols(new String[] {BenchTls.PROTOCOL});
      socket.setEnabledCipherSuites(new String[] {BenchTls.CIPHER_SUITE});
      socket.startHandshake();
      OutputStream out = socket.getOutputStream();
      int first = (i * lineLength) % chunk.length;
      writers.add(
          new Thread(
              () -> {
                try {
                  for (int at = first; ; at = (at + 16384) % chunk.length) {
                    int n = Math.min(16384, chunk.length - at);
                    out.write(chunk, at, n);
                    SENT.add(n);
                  }
                } catch (IOException e) {
                  System.err.println("load client: " + e);
                  Runtime.getRuntime().halt(1);
                }
              },
              "load-tls-writer-" + (i + 1)));
    }
    return writers;
  }

  private static List<Thread> idle(int port, int connections) throws IOException {
    long limit = ServerMain.openFilesLimit();
    if (limit >= 0 && connections + 200L > limit) {
      throw new IllegalStateException(
          "idle: " + connections + " connections need more than the open files limit " + limit);
    }
    List<SocketChannel> open = new ArrayList<>(connections);
    for (int i = 0; i < connections; i++) {
      SocketChannel channel = connect(port);
      ByteBuffer line = ByteBuffer.wrap(("idle," + i + "\n").getBytes(StandardCharsets.US_ASCII));
      while (line.hasRemaining()) {
        channel.write(line);
      }
      open.add(channel);
    }
    IDLE.addAll(open);
    return List.of();
  }

  private static List<Thread> latency(int port, int connections, int lineLength, long rate)
      throws IOException {
    SocketChannel[] channels = new SocketChannel[connections];
    ByteBuffer[] buffers = new ByteBuffer[connections];
    SplittableRandom random = new SplittableRandom(7);
    int templates = 64;
    ByteBuffer lines = ByteBuffer.allocate(templates * lineLength);
    for (int i = 0; i < templates; i++) {
      lines.put(Lines.latencyLine(random, lineLength));
    }
    for (int i = 0; i < connections; i++) {
      channels[i] = connect(port);
      channels[i].setOption(StandardSocketOptions.TCP_NODELAY, true);
      buffers[i] = ByteBuffer.allocateDirect(256 * lineLength);
    }
    return List.of(
        new Thread(
            () -> sendAtRate(channels, buffers, lines.array(), lineLength, rate), "load-latency"));
  }

  private static void sendAtRate(
      SocketChannel[] channels, ByteBuffer[] buffers, byte[] lines, int lineLength, long rate) {
    int templates = lines.length / lineLength;
    double nanosPerLine = 1e9 / rate;
    long maxBatch = Math.max(1, rate / 1000);
    long start = System.nanoTime() + 1_000_000;
    long sent = 0;
    try {
      while (true) {
        long now = System.nanoTime();
        long due = now - start < 0 ? 0 : (long) ((now - start) / nanosPerLine) + 1;
        if (due <= sent) {
          LockSupport.parkNanos(start + (long) (sent * nanosPerLine) - now);
          continue;
        }
        long end = Math.min(due, sent + maxBatch);
        for (long j = sent; j < end; j++) {
          int c = (int) (j % channels.length);
          ByteBuffer buffer = buffers[c];
          if (!buffer.hasRemaining()) {
            flush(channels[c], buffer);
          }
          int at = buffer.position();
          buffer.put(lines, (int) (j % templates) * lineLength, lineLength);
          Lines.writeStamp(buffer, at + Lines.STAMP_OFFSET, start + (long) (j * nanosPerLine));
        }
        for (int c = 0; c < channels.length; c++) {
          flush(channels[c], buffers[c]);
        }
        sent = end;
      }
    } catch (IOException e) {
      System.err.println("latency client: " + e);
      Runtime.getRuntime().halt(1);
    }
  }

  private static void flush(SocketChannel channel, ByteBuffer buffer) throws IOException {
    buffer.flip();
    while (buffer.hasRemaining()) {
      SENT.add(channel.write(buffer));
    }
    buffer.clear();
  }
}
