package dev.lineserver.testing;

import dev.lineserver.CloseReason;
import dev.lineserver.ConnectionInfo;
import dev.lineserver.LineServer;
import dev.lineserver.LineServerListener;
import dev.lineserver.SendQueueFull;
import dev.lineserver.SendResult;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Security;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Run by {@code TlsRepliesTest} in a child JVM, because the JDK reads {@code jdk.tls.keyLimits}
 * once per JVM: with AES-GCM keys good for 16 KiB, the server updates its keys, and asks {@code
 * openssl s_client} to update its own, every few lines, while s_client streams 4 MiB of lines, the
 * sink echoes each, and a dispatcher thread sends numbered commands to the same connection. The
 * line {@code END} makes the sink close the connection ({@code connection.close()}). The program
 * reads s_client's output and checks that every echo and every command whose send was queued
 * arrived, each stream whole and in order, that the connection closed as {@code APPLICATION_CLOSE}
 * and s_client ended cleanly (the close_notify after the last reply); prints "replies OK", else
 * "FAILED: " and why. Arguments: a {@link TestPki} directory, the openssl program, and {@code
 * executor} to run the sink on an executor.
 */
public final class TlsRepliesProgram {
  private static final int LINES = 4096;
  private static final int COMMANDS = 20_000;

  private TlsRepliesProgram() {}

  public static void main(String[] args) throws Exception {
    Security.setProperty("jdk.tls.keyLimits", "AES/GCM/NoPadding KeyUpdate 2^14");
    TestPki pki = TestPki.load(Path.of(args[0]));
    String openssl = args[1];
    boolean onExecutor = args.length > 2 && args[2].equals("executor");
    ExecutorService sinkThreads = Executors.newFixedThreadPool(2);
    CompletableFuture<ConnectionInfo> opened = new CompletableFuture<>();
    BlockingQueue<CloseReason> closed = new LinkedBlockingQueue<>();
    AtomicLong refusedEchoes = new AtomicLong();
    AtomicInteger received = new AtomicInteger();
    AtomicReference<String> sinkProblem = new AtomicReference<>();
    LineServer.Builder builder =
        LineServer.builder()
            .port(0)
            .bindAddress(InetAddress.getLoopbackAddress())
            .tls(pki.serverContext())
            .maxSendQueueBytes(16 << 20) // more than all replies: no echo is refused
            .sendQueueFull(SendQueueFull.REFUSE)
            .byteSink(
                (connection, line) -> {
                  if (line.length() == 3 && line.asString().equals("END")) {
                    connection.close();
                    return;
                  }
                  int index = received.getAndIncrement();
                  if (index < LINES && !line.asString().equals(line(index))) {
                    sinkProblem.compareAndSet(null, "the sink got a wrong line " + index);
                  }
                  byte[] echo = new byte[line.length() + 1]; // one send: a command from the
                  line.copyTo(echo, 0); // other thread may come between two
                  echo[line.length()] = '\n';
                  if (connection.send(echo) != SendResult.QUEUED) {
                    refusedEchoes.incrementAndGet();
                  }
                })
            .listener(
                new LineServerListener() {
                  @Override
                  public void connectionOpened(ConnectionInfo connection) {
                    opened.complete(connection);
                  }

                  @Override
                  public void connectionClosed(ConnectionInfo connection, CloseReason reason) {
                    closed.add(reason);
                  }
                });
    if (onExecutor) {
      builder.sinkExecutor(sinkThreads);
    }
    String problem;
    try (LineServer server = builder.start()) {
      Path input = Files.createTempFile("tls-replies", ".txt");
      try (Writer out = Files.newBufferedWriter(input, StandardCharsets.US_ASCII)) {
        for (int i = 0; i < LINES; i++) {
          out.write(line(i) + "\n");
        }
        out.write("END\n");
      }
      Process client =
          new ProcessBuilder(
                  openssl,
                  "s_client",
                  "-connect",
                  "127.0.0.1:" + server.port(),
                  "-tls1_3",
                  "-quiet",
                  "-CAfile",
                  pki.caPem().toString())
              .redirectInput(input.toFile())
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      ConnectionInfo connection = opened.get(60, TimeUnit.SECONDS);
      CompletableFuture<Long> commands =
          CompletableFuture.supplyAsync(
              () -> dispatch(connection), Executors.newSingleThreadExecutor());
      problem = read(client, commands);
      if (sinkProblem.get() != null) {
        problem = sinkProblem.get() + (problem == null ? "" : "; " + problem);
      }
      if (problem == null && !client.waitFor(60, TimeUnit.SECONDS)) {
        problem = "s_client did not end after the server closed";
      }
      if (problem == null && client.exitValue() != 0) {
        problem = "s_client exited with " + client.exitValue();
      }
      CloseReason reason = closed.poll(60, TimeUnit.SECONDS);
      if (problem == null && reason != CloseReason.APPLICATION_CLOSE) {
        problem = "closed as " + reason;
      }
      if (refusedEchoes.get() > 0) {
        problem = refusedEchoes.get() + " echoes were not queued";
      }
      client.destroyForcibly();
      Files.delete(input);
    } finally {
      sinkThreads.shutdownNow();
    }
    System.out.println(problem == null ? "replies OK" : "FAILED: " + problem);
    System.exit(problem == null ? 0 : 1);
  }

  /** Line {@code i} of the stream: its number, then filler that differs from line to line. */
  private static String line(int i) {
    StringBuilder line = new StringBuilder("L").append(i).append(' ');
    SplittableRandom random = new SplittableRandom(i);
    int length = 200 + random.nextInt(1600);
    while (line.length() < length) {
      line.append((char) ('a' + random.nextInt(26)));
    }
    return line.toString();
  }

  /**
   * Sends numbered commands while the lines stream, waiting out a full queue, until the connection
   * closes or all are sent; returns how many were queued.
   */
  private static long dispatch(ConnectionInfo connection) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    long queued = 0;
    while (queued < COMMANDS && System.nanoTime() < deadline) {
      SendResult result = connection.sendLine("C" + queued);
      if (result == SendResult.CLOSED) {
        break;
      }
      if (result == SendResult.QUEUED) {
        queued++;
      } else {
        Thread.yield(); // FULL: the peer reads on, the queue has room again soon
      }
    }
    return queued;
  }

  /** Reads s_client's output to its end; returns what was wrong, or null. */
  private static String read(Process client, CompletableFuture<Long> queuedCommands)
      throws IOException, InterruptedException {
    BufferedReader in =
        new BufferedReader(
            new InputStreamReader(client.getInputStream(), StandardCharsets.US_ASCII));
    int echoes = 0;
    long commands = 0;
    for (String reply = in.readLine(); reply != null; reply = in.readLine()) {
      if (reply.startsWith("C")) {
        if (!reply.equals("C" + commands)) {
          return "command " + commands + " expected, got " + reply;
        }
        commands++;
      } else if (echoes >= LINES || !reply.equals(line(echoes))) {
        return "echo of line " + echoes + " expected, got " + difference(reply, echoes);
      } else {
        echoes++;
      }
    }
    long queued;
    try {
      queued = queuedCommands.get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      return "the dispatcher failed: " + e;
    }
    if (echoes != LINES || commands != queued) {
      return echoes + " of " + LINES + " echoes and " + commands + " of " + queued + " commands";
    }
    return null;
  }

  /** Where {@code reply} differs from the echo of line {@code i}. */
  private static String difference(String reply, int i) {
    String expected = i < LINES ? line(i) : "";
    int at = 0;
    while (at < reply.length()
        && at < expected.length()
        && reply.charAt(at) == expected.charAt(at)) {
      at++;
    }
    return reply.length()
        + " chars, not "
        + expected.length()
        + ", from index "
        + at
        + ": "
        + reply.substring(at, Math.min(reply.length(), at + 40));
  }
}
