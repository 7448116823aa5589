package dev.lineserver.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lineserver.LineServer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** Many clients at once, each sending numbered lines {@code client,0 .. client,n-1}. */
public final class NumberedLines {
  private NumberedLines() {}

  /**
   * Sends {@code perConnection} numbered lines on each of {@code connections} connections from a
   * few threads, half-closes each, and waits until the server has closed them all.
   */
  public static void send(LineServer server, int connections, int perConnection) throws Exception {
    ExecutorService clients = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> sent = new ArrayList<>();
      for (int c = 0; c < connections; c++) {
        int client = c;
        sent.add(
            clients.submit(
                () -> {
                  try (Client connection = new Client(server)) {
                    StringBuilder batch = new StringBuilder();
                    for (int i = 0; i < perConnection; i++) {
                      batch.append(client).append(',').append(i).append('\n');
                      if (batch.length() > 1000) {
                        connection.send(batch.toString());
                        batch.setLength(0);
                      }
                    }
                    connection.send(batch.toString());
                    connection.shutdownOutput();
                    connection.awaitServerClose();
                  }
                  return null;
                }));
      }
      for (Future<?> f : sent) {
        f.get(Lines.TIMEOUT_SECONDS, TimeUnit.SECONDS);
      }
    } finally {
      clients.shutdownNow();
    }
  }

  /** Asserts that each connection delivered its client's lines, all of them, in order. */
  public static void assertInOrder(
      Collection<List<String>> byConnection, int connections, int perConnection) {
    assertThat(byConnection).hasSize(connections);
    for (List<String> received : byConnection) {
      String sender = received.get(0).split(",")[0];
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < perConnection; i++) {
        expected.add(sender + "," + i);
      }
      assertThat(received).isEqualTo(expected);
    }
  }
}
