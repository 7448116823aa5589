package dev.lineserver;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lineserver.testing.Threads;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Promise (README, Replies and commands): replies queued before {@code connection.close()} reach
 * the peer before the socket closes, also when the peer is still sending. Closing a socket with
 * unread input resets the connection, and the reset makes the peer's kernel throw away replies it
 * has not read yet; the lingering close (output shut, input read and dropped until the peer's EOF)
 * keeps them. The client here never stops sending until its write fails.
 */
final class LingeringCloseTest {
  private static final int REPLIES = 2000;
  private final ExecutorService threads = Executors.newCachedThreadPool();

  @AfterEach
  void noThreadLeft() {
    threads.shutdownNow();
    Threads.assertNoServerThreads();
  }

  @ParameterizedTest
  @ValueSource(strings = {"io-thread", "executor"})
  void closeWhileThePeerStillSends_everyReplyArrives_thenTheEnd(String mode) throws Exception {
    ExecutorService sinkThreads = Executors.newFixedThreadPool(2);
    LineServer.Builder builder =
        LineServer.builder()
            .port(0)
            .maxSendQueueBytes(1 << 20)
            .connectionSink(
                (connection, line) -> {
                  if (line.equals("stop")) {
                    for (int i = 0; i < REPLIES; i++) {
                      connection.sendLine("reply " + i + " " + "x".repeat(100));
                    }
                    connection.close();
                  }
                });
    if (mode.equals("executor")) {
      builder.sinkExecutor(sinkThreads);
    }
    try (LineServer server = builder.start()) {
      for (int round = 0; round < 5; round++) {
        try (Socket client = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
          client.setSoTimeout((int) TimeUnit.SECONDS.toMillis(30));
          OutputStream out = client.getOutputStream();
          out.write("stop\n".getBytes(StandardCharsets.US_ASCII));
          threads.execute(() -> sendUntilItFails(out));
          List<String> replies = new ArrayList<>();
          BufferedReader in =
              new BufferedReader(
                  new InputStreamReader(client.getInputStream(), StandardCharsets.US_ASCII));
          try {
            for (String reply = in.readLine(); reply != null; reply = in.readLine()) {
              replies.add(reply);
            }
          } catch (IOException e) {
            replies.add("read failed: " + e);
          }
          assertThat(replies)
              .as("round %d: every reply, then the end of stream (not a reset)", round)
              .hasSize(REPLIES)
              .endsWith("reply " + (REPLIES - 1) + " " + "x".repeat(100));
        }
      }
    } finally {
      sinkThreads.shutdownNow();
    }
  }

  /** Lines after lines, until the server's end makes a write fail; at most a minute. */
  private static void sendUntilItFails(OutputStream out) {
    byte[] chunk = "more\n".repeat(200).getBytes(StandardCharsets.US_ASCII);
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    try {
      while (System.nanoTime() < deadline) {
        out.write(chunk);
      }
    } catch (IOException expected) {
      // the server closed
    }
  }
}
