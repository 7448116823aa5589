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
 *   <li>{@code idle <port> <connections>}: each connection sends one line, then stays open.
 *   <li>{@code latency <port> <connections> <lineLength> <linesPerSecond>}: one thread sends lines
 *       round-robin at a fixed rate; each line carries its scheduled send time ({@code nanoTime}),
 *       so a client or server that falls behind shows as latency (no coordinated omission).
 * </ul>
 */
public final class ClientMain {
  /** Bytes handed to the kernel so far, for the orchestrator's sanity check. */
  private static final LongAdder SENT = new LongAdder();

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
