package dev.lineserver.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lineserver.LineServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * KafkaLineSink against a real KRaft broker (one controller, one broker) started in this JVM: lines
 * sent over TCP are consumed back from the topic, each exactly once, each key's in order.
 */
final class KafkaLineSinkTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  private static final int PARTITIONS = 3;
  private static final int VEHICLES_PER_CONNECTION = 10;

  private static KafkaClusterTestKit cluster;
  private static int topics;

  @BeforeAll
  static void startBroker() throws Exception {
    cluster =
        new KafkaClusterTestKit.Builder(
                new TestKitNodes.Builder()
                    .setCombined(false)
                    .setNumControllerNodes(1)
                    .setNumBrokerNodes(1)
                    .build())
            .build();
    cluster.format();
    cluster.startup();
    cluster.waitForReadyBrokers();
  }

  @AfterAll
  static void stopBroker() throws Exception {
    cluster.close();
  }

  @Test
  void accept_linesOverTcp_consumedExactlyOnceInOrderPerKey() throws Exception {
    String topic = newTopic();
    int connections = 4;
    int linesPerConnection = 5_000;
    ExecutorService executor = Executors.newFixedThreadPool(2);
    KafkaLineSink sink =
        KafkaLineSink.create(
            cluster.bootstrapServers(), topic, KafkaLineSink.firstField((byte) ','), true);
    try {
      try (LineServer server =
          LineServer.builder().port(0).sinkExecutor(executor).byteSink(sink).start()) {
        List<Thread> senders = new ArrayList<>();
        for (int c = 0; c < connections; c++) {
          int connection = c;
          senders.add(start(() -> sendAndHalfClose(server.port(), connection, linesPerConnection)));
        }
        for (Thread sender : senders) {
          sender.join(TIMEOUT.toMillis());
        }
      }
      sink.close();
      assertThat(sink.failedSends()).isZero();
      assertThat(sink.acknowledged()).isEqualTo(connections * linesPerConnection);
    } finally {
      sink.close();
      executor.shutdown();
    }

    List<ConsumerRecord<byte[], byte[]>> records =
        consumeAll(topic, connections * linesPerConnection);
    assertExactlyOnceInOrder(records);
    ConsumerRecord<byte[], byte[]> first = records.get(0);
    assertThat(new String(first.headers().lastHeader("remote-address").value(), UTF_8))
        .startsWith("127.0.0.1:");
    assertThat(Long.parseLong(new String(first.headers().lastHeader("received-at").value(), UTF_8)))
        .isPositive();
  }

  @Test
  void close_whileSendersKeepSending_everyLineThatReachedTheSinkIsInTheTopic() throws Exception {
    String topic = newTopic();
    ExecutorService executor = Executors.newFixedThreadPool(2);
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> senders = new ArrayList<>();
    KafkaLineSink sink =
        KafkaLineSink.create(
            cluster.bootstrapServers(), topic, KafkaLineSink.firstField((byte) ','), false);
    LineServer server =
        LineServer.builder()
            .port(0)
            .shutdownTimeout(Duration.ofMillis(500))
            .sinkExecutor(executor)
            .byteSink(sink)
            .start();
    try {
      for (int c = 0; c < 4; c++) {
        int connection = c;
        senders.add(start(() -> sendUntil(server.port(), connection, stop, new AtomicLong())));
      }
      await().atMost(TIMEOUT).until(() -> sink.acknowledged() >= 20_000);
      server.close(); // the senders are still writing
      sink.close();
    } finally {
      stop.set(true);
      server.close();
      sink.close();
      executor.shutdown();
    }
    for (Thread sender : senders) {
      sender.join(TIMEOUT.toMillis());
    }

    assertThat(sink.failedSends()).isZero();
    assertThat(sink.acknowledged()).isEqualTo(sink.sent());
    List<ConsumerRecord<byte[], byte[]>> records = consumeAll(topic, sink.sent());
    // Each connection was cut somewhere: what reached the sink is a prefix of what it sent.
    assertExactlyOnceInOrder(records);
  }

  @Test
  void accept_brokerStoppedAndRestarted_pausesReadingLosesNothingAndResumes() throws Exception {
    String topic = newTopic();
    int brokerId = cluster.brokers().keySet().iterator().next();
    Map<String, Object> config = KafkaLineSink.producerConfig(cluster.bootstrapServers());
    // Small buffers, so a stopped broker fills them at once and the sink blocks.
    config.put(ProducerConfig.BATCH_SIZE_CONFIG, 16 * 1024);
    config.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 128L * 1024);
    config.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 200);
    ExecutorService executor = Executors.newFixedThreadPool(2);
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong[] written = {new AtomicLong(), new AtomicLong()};
    List<Thread> senders = new ArrayList<>();
    KafkaLineSink sink =
        KafkaLineSink.create(config, topic, KafkaLineSink.firstField((byte) ','), false);
    try {
      try (LineServer server =
          LineServer.builder()
              .port(0)
              .sinkExecutor(executor)
              .maxPendingBytes(64 * 1024)
              .byteSink(sink)
              .start()) {
        for (int c = 0; c < written.length; c++) {
          int connection = c;
          senders.add(start(() -> sendUntil(server.port(), connection, stop, written[connection])));
        }
        await().atMost(TIMEOUT).until(() -> sink.acknowledged() >= 5_000);

        cluster.brokers().get(brokerId).shutdown();
        cluster.brokers().get(brokerId).awaitShutdown();
        // The sink blocks in send, the server stops reading, TCP stops the senders: their count
        // stands still across two polls half a second apart while nothing is acknowledged.
        long[] last = {-1};
        await()
            .atMost(TIMEOUT)
            .pollInterval(Duration.ofMillis(500))
            .until(
                () -> {
                  long now = written[0].get() + written[1].get();
                  boolean still = now == last[0];
                  last[0] = now;
                  return still;
                });
        assertThat(server.stats().readsPaused()).isPositive();
        assertThat(server.stats().sinkPendingBytes()).isPositive();
        long ackedWhileDown = sink.acknowledged();

        cluster.restartBroker(brokerId, Map.of());
        await()
            .atMost(TIMEOUT)
            .untilAsserted(
                () ->
                    assertThat(sink.acknowledged())
                        .as(
                            "acknowledged after the restart; sent=%d failed=%d failure=%s stats=%s",
                            sink.sent(), sink.failedSends(), sink.failure(), server.stats())
                        .isGreaterThanOrEqualTo(ackedWhileDown + 5_000));
        stop.set(true);
        for (Thread sender : senders) {
          sender.join(TIMEOUT.toMillis());
        }
      }
      sink.close();
      assertThat(sink.failedSends()).isZero();
      assertThat(sink.acknowledged()).isEqualTo(written[0].get() + written[1].get());
    } finally {
      stop.set(true);
      sink.close();
      executor.shutdown();
    }

    List<ConsumerRecord<byte[], byte[]>> records =
        consumeAll(topic, written[0].get() + written[1].get());
    assertExactlyOnceInOrder(records);
  }

  @Test
  void forwarder_validAndMalformedLines_forwardsValidOnesKeyedByVehicle() throws Exception {
    String topic = newTopic();
    ByteArrayOutputStream output = new ByteArrayOutputStream();
    KafkaForwarder.Options options =
        new KafkaForwarder.Options(cluster.bootstrapServers(), topic, true, LOOPBACK, 0, 0, 8, 1);
    try (KafkaForwarder forwarder =
        KafkaForwarder.start(options, new PrintStream(output, true, UTF_8))) {
      try (Socket socket = new Socket(LOOPBACK, forwarder.port())) {
        socket
            .getOutputStream()
            .write(
                ("veh-1,0,52.5,13.4,10.0,90.0\n"
                        + "veh-1,1,91.5,13.4,10.0,90.0\n"
                        + "garbage\n"
                        + "veh-1,1,52.6,13.4,10.0,90.0\n")
                    .getBytes(UTF_8));
        socket.shutdownOutput();
        awaitEof(socket);
      }
      await().atMost(TIMEOUT).until(() -> forwarder.rejected() == 2);
    }
    assertThat(output.toString(UTF_8))
        .contains("stopped: sent=2 acknowledged=2 failed=0 rejected=2");
    List<ConsumerRecord<byte[], byte[]>> records = consumeAll(topic, 2);
    assertExactlyOnceInOrder(records);
    assertThat(records.get(0).headers().lastHeader("remote-address")).isNotNull();
  }

  private static Thread start(Runnable task) {
    Thread thread = new Thread(task, "sender");
    thread.start();
    return thread;
  }

  private static String newTopic() throws Exception {
    String topic = "lines-" + ++topics;
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1))).all().get();
    }
    return topic;
  }

  /** The line a connection sends as its {@code index}-th: vehicle {@code c<conn>-v<k>}, seq. */
  private static byte[] line(int connection, long index) {
    long vehicle = index % VEHICLES_PER_CONNECTION;
    long seq = index / VEHICLES_PER_CONNECTION;
    return ("c" + connection + "-v" + vehicle + "," + seq + ",52.52,13.40,42.0,90.0\n")
        .getBytes(UTF_8);
  }

  /** Sends {@code lines} lines, half-closes, and waits for the server to close the connection. */
  private static void sendAndHalfClose(int port, int connection, int lines) {
    try (Socket socket = new Socket(LOOPBACK, port)) {
      OutputStream out = socket.getOutputStream();
      for (int i = 0; i < lines; i++) {
        out.write(line(connection, i));
      }
      out.flush();
      socket.shutdownOutput();
      awaitEof(socket);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  /**
   * Sends lines until {@code stop}, counting each written in {@code written}, then half-closes. A
   * server that closes first (close under load) ends it quietly.
   */
  private static void sendUntil(int port, int connection, AtomicBoolean stop, AtomicLong written) {
    try (Socket socket = new Socket(LOOPBACK, port)) {
      socket.setSoTimeout((int) TIMEOUT.toMillis());
      OutputStream out = socket.getOutputStream();
      while (!stop.get()) {
        out.write(line(connection, written.get()));
        written.incrementAndGet();
      }
      socket.shutdownOutput();
      awaitEof(socket);
    } catch (IOException e) {
      // the server closed the connection while we wrote: expected when it closes under load
    }
  }

  private static void awaitEof(Socket socket) throws IOException {
    socket.setSoTimeout((int) TIMEOUT.toMillis());
    InputStream in = socket.getInputStream();
    while (in.read() >= 0) {
      // the server sends nothing; read until it closes
    }
  }

  /**
   * Reads the whole topic: exactly {@code expected} records, and the partitions' end offsets add up
   * to the same number, so nothing was written twice.
   */
  private static List<ConsumerRecord<byte[], byte[]>> consumeAll(String topic, long expected) {
    Map<String, Object> config = new HashMap<>();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (int p = 0; p < PARTITIONS; p++) {
        partitions.add(new TopicPartition(topic, p));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long endOffsets = consumer.endOffsets(partitions).values().stream().mapToLong(l -> l).sum();
      assertThat(endOffsets).as("records in the topic").isEqualTo(expected);
      long deadline = System.nanoTime() + TIMEOUT.toNanos();
      while (records.size() < expected && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
    }
    assertThat(records).hasSize((int) expected);
    return records;
  }

  /**
   * Every line once; in each partition, each vehicle's sequence numbers are 0, 1, 2, ... with no
   * gap, so no line was lost before a later one of the same vehicle, and none reordered.
   */
  private static void assertExactlyOnceInOrder(List<ConsumerRecord<byte[], byte[]>> records) {
    Set<String> values = new HashSet<>();
    Map<String, Long> nextSeq = new HashMap<>();
    Map<String, Integer> partitionOf = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> record : records) {
      String value = new String(record.value(), UTF_8);
      assertThat(values.add(value)).as("duplicate %s", value).isTrue();
      String[] fields = value.split(",");
      String vehicle = fields[0];
      assertThat(new String(record.key(), UTF_8)).isEqualTo(vehicle);
      assertThat(partitionOf.computeIfAbsent(vehicle, v -> record.partition()))
          .as("partition of %s", vehicle)
          .isEqualTo(record.partition());
      long seq = Long.parseLong(fields[1]);
      assertThat(seq).as("seq of %s", vehicle).isEqualTo(nextSeq.getOrDefault(vehicle, 0L));
      nextSeq.put(vehicle, seq + 1);
    }
  }
}
