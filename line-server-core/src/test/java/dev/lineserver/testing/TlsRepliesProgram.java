package dev.lineserver.testing;

import dev.lineserver.ConnectionInfo;
import dev.lineserver.LineServer;
import dev.lineserver.SendQueueFull;
import dev.lineserver.SendResult;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.Security;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * Run by {@code TlsRepliesTest} in a child JVM, because the JDK reads {@code jdk.tls.keyLimits}
 * once per JVM: with AES-GCM keys good for 16 KiB, both sides of a TLS 1.3 connection update their
 * keys every few lines while the client streams 4 MiB of lines, the server echoes each line from
 * its sink and a dispatcher thread sends numbered commands to the same connection meanwhile. The
 * client reads both streams and checks each is whole and in order; prints "replies OK" and exits 0,
 * else prints what went wrong and exits 1. Arguments: a {@link TestPki} directory, and {@code
 * executor} to run the sink on an executor.
 */
public final class TlsRepliesProgram {
  private static final int LINES = Integer.getInteger("lines", 4096);
  private static final int COMMANDS = Integer.getInteger("commands", 2000);

  private TlsRepliesProgram() {}

  public static void main(String[] args) throws Exception {
    Security.setProperty("jdk.tls.keyLimits", "AES/GCM/NoPadding KeyUpdate 2^14");
    TestPki pki = TestPki.load(Path.of(args[0]));
    boolean onExecutor = args.length > 1 && args[1].equals("executor");
    ExecutorService sinkThreads = Executors.newFixedThreadPool(2);
    AtomicReference<ConnectionInfo> connection = new AtomicReference<>();
    AtomicLong refused = new AtomicLong();
    LineServer.Builder builder =
        LineServer.builder()
            .port(0)
            .bindAddress(InetAddress.getLoopbackAddress())
            .tls(pki.serverContext())
            .maxSendQueueBytes(1 << 20)
            .sendQueueFull(SendQueueFull.REFUSE)
            .byteSink(
                (from, line) -> {
                  connection.compareAndSet(null, from);
                  if (Boolean.getBoolean("noecho")) {
                    return;
                  }
                  byte[] echo = new byte[line.length() + 1]; // one send: the commands
                  line.copyTo(echo, 0); // from the other thread may come between two
                  echo[line.length()] = '\n';
                  if (from.send(echo) != SendResult.QUEUED) {
                    refused.incrementAndGet();
                  }
                });
    if (onExecutor) {
      builder.sinkExecutor(sinkThreads);
    }
    int exit = 1;
    try (LineServer server = builder.start();
        SSLSocket socket = clientSocket(pki.clientContext(null), server.port())) {
      Thread dispatcher = new Thread(() -> dispatch(connection, refused), "test-dispatcher");
      Thread writer = new Thread(() -> write(socket), "test-writer");
      writer.start();
      dispatcher.start();
      String problem = read(socket);
      writer.join(TimeUnit.SECONDS.toMillis(60));
      dispatcher.join(TimeUnit.SECONDS.toMillis(60));
      if (problem == null && refused.get() > 0) {
        problem = refused.get() + " sends were not queued";
      }
      System.out.println(problem == null ? "replies OK" : "FAILED: " + problem);
      exit = problem == null ? 0 : 1;
    } finally {
      sinkThreads.shutdownNow();
    }
    System.exit(exit);
  }

  private static SSLSocket clientSocket(SSLContext context, int port) throws Exception {
    SSLSocket socket =
        (SSLSocket) context.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), port);
    SSLParameters parameters = socket.getSSLParameters();
    parameters.setProtocols(new String[] {"TLSv1.3"});
    socket.setSSLParameters(parameters);
    socket.setSoTimeout((int) TimeUnit.SECONDS.toMillis(60));
    socket.startHandshake();
    return socket;
  }

  /** Line {@code i} of the stream: its number, then filler that differs from line to line. */
  static String line(int i) {
    StringBuilder line = new StringBuilder("L").append(i).append(' ');
    SplittableRandom random = new SplittableRandom(i);
    int length = 200 + random.nextInt(1600);
    while (line.length() < length) {
      line.append((char) ('a' + random.nextInt(26)));
    }
    return line.toString();
  }

  private static void write(SSLSocket socket) {
    try {
      OutputStream out = socket.getOutputStream();
      for (int i = 0; i < LINES; i++) {
        out.write((line(i) + "\n").getBytes(StandardCharsets.US_ASCII));
      }
      out.flush();
    } catch (Exception e) {
      System.out.println("FAILED: writing: " + e);
    }
  }

  /** Sends the commands from its own thread while the lines stream; waits for the connection. */
  private static void dispatch(AtomicReference<ConnectionInfo> connection, AtomicLong refused) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (connection.get() == null && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    ConnectionInfo to = connection.get();
    if (to == null) {
      return;
    }
    for (int i = 0; i < COMMANDS && System.nanoTime() < deadline; i++) {
      SendResult result;
      while ((result = to.sendLine("C" + i)) == SendResult.FULL && System.nanoTime() < deadline) {
        Thread.yield(); // the peer reads on: the queue has room again soon
      }
      if (result != SendResult.QUEUED) {
        refused.incrementAndGet();
      }
    }
  }

  /** Reads until every echo and command arrived; returns what was wrong, or null. */
  private static String read(SSLSocket socket) throws Exception {
    BufferedReader in =
        new BufferedReader(
            new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
    int echoes = 0;
    int commands = 0;
    int expectedEchoes = Boolean.getBoolean("noecho") ? 0 : LINES;
    while (echoes < expectedEchoes || commands < COMMANDS) {
      String reply = in.readLine();
      if (reply == null) {
        return "the server closed after " + echoes + " echoes and " + commands + " commands";
      }
      if (reply.startsWith("C")) {
        if (!reply.equals("C" + commands)) {
          return "command " + commands + " expected, got " + reply;
        }
        commands++;
      } else if (!reply.equals(line(echoes))) {
        return "echo of line " + echoes + " expected, got " + abbreviate(reply);
      } else {
        echoes++;
      }
    }
    return null;
  }

  private static String abbreviate(String text) {
    return text.length() <= 40 ? text : text.substring(0, 40) + "...";
  }
}
