package dev.lineserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lineserver.testing.ChildJvm;
import dev.lineserver.testing.EmfileServer;
import dev.lineserver.testing.ManyClients;
import dev.lineserver.testing.Threads;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Tests that need a second process: a low file-descriptor limit, or more sockets than one holds.
 */
final class ChildJvmTest {

  @AfterEach
  void noThreadOutlivesItsServer() {
    Threads.assertNoServerThreads();
  }

  @Test
  void outOfFileDescriptors_acceptBacksOff_servesOpenConnections_andRecovers() throws Exception {
    List<Socket> clients = new ArrayList<>();
    try (ChildJvm child = ChildJvm.start(64, EmfileServer.class)) {
      int port = Integer.parseInt(child.await(60, "PORT ").substring(5));
      String event = "";
      for (int i = 0; i < 200 && !event.startsWith("ACCEPT_FAILED"); i++) {
        Socket client = new Socket(InetAddress.getLoopbackAddress(), port);
        clients.add(client);
        client.getOutputStream().write(("c" + i + "\n").getBytes(StandardCharsets.UTF_8));
        event = child.await(30, "LINE c" + i, "ACCEPT_FAILED");
      }
      assertThat(event).startsWith("ACCEPT_FAILED").contains("Too many open files");
      // Linux's accept() takes a free descriptor before it waits, so it fails even with nothing
      // waiting: the last client may have been accepted, or may be waiting in the backlog.
      int last = clients.size() - 1;

      // Open connections are still served while accepting fails.
      clients.get(0).getOutputStream().write("still served\n".getBytes(StandardCharsets.UTF_8));
      child.await(30, "LINE still served");

      // Freeing descriptors lets the acceptor take waiting and new connections by itself.
      for (int i = 1; i <= 5; i++) {
        clients.get(i).close();
      }
      Socket late = new Socket(InetAddress.getLoopbackAddress(), port);
      clients.add(late);
      late.getOutputStream().write("after recovery\n".getBytes(StandardCharsets.UTF_8));
      child.await(30, "LINE c" + last);
      child.await(30, "LINE after recovery");
      child.await(30, "WARNING: accept failed, retrying with back-off");
      child.await(30, "INFO: accepting again after");
      assertThat(child.history())
          .as("the failure is reported once for the whole run of failed accepts")
          .filteredOn(line -> line.startsWith("ACCEPT_FAILED"))
          .hasSize(1);
      child.endInput();
      assertThat(child.waitForExit(30)).isZero();
    } finally {
      for (Socket client : clients) {
        client.close();
      }
    }
  }

  @Test
  void tenThousandConnections_everyLineDelivered_inOrder_withBoundedHeap() throws Exception {
    int connections = 10_000;
    int perConnection = 20;
    Map<Long, int[]> progress = new ConcurrentHashMap<>();
    AtomicLong delivered = new AtomicLong();
    List<String> errors = new CopyOnWriteArrayList<>();
    ConnectionLineSink sink =
        (connection, line) -> {
          int comma = line.indexOf(',');
          int client = Integer.parseInt(line.substring(0, comma));
          int sequence = Integer.parseInt(line.substring(comma + 1));
          int[] seen = progress.computeIfAbsent(connection.id(), id -> new int[] {client, 0});
          if (seen[0] != client || seen[1] != sequence) {
            errors.add(connection.id() + ": expected " + seen[0] + "," + seen[1] + " got " + line);
          }
          seen[1]++;
          delivered.incrementAndGet();
        };
    long heapBefore = usedHeapAfterGc();
    LineServer server =
        LineServer.builder().port(0).maxConnections(20_000).connectionSink(sink).start();
    try (ChildJvm clients =
        ChildJvm.start(
            0,
            ManyClients.class,
            String.valueOf(server.port()),
            String.valueOf(connections),
            String.valueOf(perConnection))) {
      clients.await(120, "CONNECTED");
      clients.await(120, "SENT");
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> delivered.get() == (long) connections * perConnection);
      assertThat(server.stats().connectionsOpen()).isEqualTo(connections);
      long heapPerConnection = (usedHeapAfterGc() - heapBefore) / connections;
      System.out.printf("10k connections: %d bytes of heap each%n", heapPerConnection);
      assertThat(heapPerConnection).as("heap per open connection").isLessThan(4096);
      server.close(); // the server closes first: its side keeps the TIME_WAIT sockets
      clients.endInput();
    } finally {
      server.close();
    }
    assertThat(errors).isEmpty();
    assertThat(progress).hasSize(connections);
    assertThat(progress.values()).allSatisfy(seen -> assertThat(seen[1]).isEqualTo(perConnection));
  }

  private static long usedHeapAfterGc() {
    Runtime runtime = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return runtime.totalMemory() - runtime.freeMemory();
  }
}
