package dev.lineserver.examples;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.lineserver.ByteLineSink;
import dev.lineserver.LineServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/**
 * Lines per second through the server into a sink that only counts, then into Kafka (a KRaft broker
 * in this JVM) until every line is acknowledged. Same load each time: {@code connections} sockets
 * each write {@code lines / connections} position lines as fast as they can.
 *
 * <pre>
 * ./mvnw -B -q -pl line-server-examples exec:exec -Dexec.classpathScope=test \
 *     -Dexample.main=dev.lineserver.examples.KafkaThroughput -Dexample.args="2000000 8"
 * </pre>
 */
final class KafkaThroughput {
  private KafkaThroughput() {}

  public static void main(String[] args) throws Exception {
    int lines = args.length > 0 ? Integer.parseInt(args[0]) : 2_000_000;
    int connections = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    KafkaClusterTestKit cluster =
        new KafkaClusterTestKit.Builder(
                new TestKitNodes.Builder()
                    .setCombined(true)
                    .setNumControllerNodes(1)
                    .setNumBrokerNodes(1)
                    .build())
            .build();
    try {
      cluster.format();
      cluster.startup();
      cluster.waitForReadyBrokers();
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrapServers()))) {
        admin
            .createTopics(
                List.of(
                    new NewTopic("warmup", 3, (short) 1),
                    new NewTopic("first-field", 3, (short) 1),
                    new NewTopic("parsed", 3, (short) 1)))
            .all()
            .get();
      }
      LongAdder counted = new LongAdder();
      run("sink only (count)", lines, connections, (c, line) -> counted.increment(), counted::sum);
      for (String topic : List.of("warmup", "first-field", "parsed")) {
        KafkaLineSink sink =
            KafkaLineSink.create(
                cluster.bootstrapServers(),
                topic,
                topic.equals("parsed")
                    ? KafkaForwarder::vehicleId
                    : KafkaLineSink.firstField((byte) ','),
                true);
        try {
          run("kafka, key " + topic, lines, connections, sink, sink::acknowledged);
        } finally {
          sink.close();
        }
      }
    } finally {
      cluster.close();
    }
  }

  private static void run(
      String name, int lines, int connections, ByteLineSink sink, LongSupplier done)
      throws Exception {
    int perConnection = lines / connections;
    int total = perConnection * connections;
    List<byte[]> payloads = new ArrayList<>();
    for (int c = 0; c < connections; c++) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      for (int i = 0; i < perConnection; i++) {
        bytes.write(
            String.format(
                    Locale.ROOT,
                    "veh-%d-%d,%d,52.52%03d,13.40%03d,42.0,90.0\n",
                    c,
                    i % 100,
                    1_700_000_000_000L + i,
                    i % 1000,
                    i % 997)
                .getBytes(UTF_8));
      }
      payloads.add(bytes.toByteArray());
    }
    ExecutorService executor = Executors.newFixedThreadPool(2);
    long before = done.getAsLong();
    try (LineServer server =
        LineServer.builder()
            .port(0)
            .sinkExecutor(executor)
            .maxPendingBytes(16L * 1024 * 1024)
            .byteSink(sink)
            .start()) {
      long start = System.nanoTime();
      List<Thread> senders = new ArrayList<>();
      for (byte[] payload : payloads) {
        Thread sender = new Thread(() -> send(server.port(), payload), "sender");
        sender.start();
        senders.add(sender);
      }
      for (Thread sender : senders) {
        sender.join();
      }
      long deadline = System.nanoTime() + 300_000_000_000L;
      while (done.getAsLong() - before < total && System.nanoTime() < deadline) {
        Thread.sleep(1); // polling a counter for the end of a measurement, not synchronizing
      }
      long nanos = System.nanoTime() - start;
      System.out.printf(
          Locale.ROOT,
          "%-24s %,d lines in %,d ms: %,.0f lines/s (%d done)%n",
          name,
          total,
          nanos / 1_000_000,
          total * 1e9 / nanos,
          done.getAsLong() - before);
    } finally {
      executor.shutdown();
    }
  }

  private static void send(int port, byte[] payload) {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      OutputStream out = socket.getOutputStream();
      out.write(payload);
      out.flush();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
