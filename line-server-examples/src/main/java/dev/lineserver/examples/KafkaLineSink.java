package dev.lineserver.examples;

import dev.lineserver.ByteLineSink;
import dev.lineserver.ConnectionInfo;
import dev.lineserver.Line;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.jspecify.annotations.Nullable;

/**
 * A byte sink that sends every line to one Kafka topic: the value is the line's bytes as received
 * (UTF-8 for the vehicle feed), the key is what {@code key} extracts from the line, so one key's
 * lines go to one partition in the order they arrived. With headers on, each record carries {@code
 * remote-address} (the sender, {@code host:port}) and {@code received-at} (epoch milliseconds when
 * the sink took the line, as decimal text).
 *
 * <p><b>No loss, bounded memory.</b> The producer is idempotent with {@code acks=all}, so a retried
 * batch is written once and only after every in-sync replica has it. {@code send} is asynchronous:
 * it appends to the producer's buffer ({@code buffer.memory}) and returns. When the broker is slow
 * or down, that buffer fills and {@code send} blocks the sink's thread, up to {@code max.block.ms}.
 * Run the sink on the server's {@code sinkExecutor}: the blocked sink lets the server's queue fill
 * to {@code maxPendingBytes}, then the server stops reading and TCP pushes back on the senders.
 * Memory stays bounded by the two budgets and no line is dropped while the broker comes back.
 *
 * <p><b>Failures.</b> A send that fails at once (the buffer stayed full for {@code max.block.ms}, a
 * record too large, a key function that throws) throws from {@link #accept}: that line takes the
 * server's failure path ({@code sinkFailed}, restart intensity) like any rejected line. A send that
 * fails later, in the producer's callback (retries ran out after {@code delivery.timeout.ms}, or a
 * fatal producer error), cannot be handed back to its connection: the line is already gone from the
 * server. Then this sink stops: it counts the failure ({@link #failedSends()}), logs the first lost
 * line at ERROR, and from then on every {@link #accept} throws without sending, so each later line
 * is reported as failed rather than written after a gap, and the restart intensity closes the
 * connections (senders see their connection close). A topic never gets a hole followed by newer
 * lines of the same key; restart the program once Kafka is healthy.
 *
 * <p><b>Close.</b> Close the server first ({@code server.close()} delivers every byte it received),
 * then this sink: {@link #close()} flushes the producer and waits until every record sent is
 * acknowledged or has failed, then closes the producer. So every line that reached the sink is
 * acknowledged by Kafka, or counted in {@link #failedSends()}, before the program exits.
 *
 * <p>Thread-safe: the server may call it from several threads at once.
 */
public final class KafkaLineSink implements ByteLineSink, AutoCloseable {
  private static final Logger LOGGER = System.getLogger("dev.lineserver.examples");

  /** Header naming the sender, {@code host:port}. */
  public static final String REMOTE_ADDRESS_HEADER = "remote-address";

  /** Header holding when the sink took the line, epoch milliseconds as decimal text. */
  public static final String RECEIVED_AT_HEADER = "received-at";

  /** Extracts a record key from a line; throws to reject the line. */
  @FunctionalInterface
  public interface KeyFunction {
    /**
     * The key of {@code line}, or {@code null} for none (the producer then spreads such lines over
     * partitions, unordered). The line is valid only during the call.
     *
     * @throws IllegalArgumentException to reject the line; it takes the server's failure path
     */
    byte @Nullable [] key(Line line);
  }

  private final Producer<byte[], byte[]> producer;
  private final String topic;
  private final KeyFunction key;
  private final boolean headers;
  private final LongAdder sent = new LongAdder();
  private final LongAdder acknowledged = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private final AtomicReference<@Nullable Exception> failure = new AtomicReference<>();
  private final AtomicBoolean closed = new AtomicBoolean();

  KafkaLineSink(Producer<byte[], byte[]> producer, String topic, KeyFunction key, boolean headers) {
    this.producer = producer;
    this.topic = topic;
    this.key = key;
    this.headers = headers;
  }

  /**
   * A sink with its own producer, configured by {@link #producerConfig}.
   *
   * @param bootstrapServers {@code host:port[,host:port...]} of the Kafka cluster
   * @param topic the topic every line goes to
   * @param key extracts each line's key, e.g. {@link #firstField}
   * @param headers whether to add the {@code remote-address} and {@code received-at} headers
   */
  public static KafkaLineSink create(
      String bootstrapServers, String topic, KeyFunction key, boolean headers) {
    return create(producerConfig(bootstrapServers), topic, key, headers);
  }

  /** A sink with its own producer, configured by {@code config} (tests shrink the buffers). */
  static KafkaLineSink create(
      Map<String, Object> config, String topic, KeyFunction key, boolean headers) {
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(key, "key");
    if (topic.isEmpty()) {
      throw new IllegalArgumentException("topic: \"\" (expected: a topic name)");
    }
    return new KafkaLineSink(
        new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer()),
        topic,
        key,
        headers);
  }

  /**
   * The producer settings this sink uses; see the README's Kafka section for why each is set.
   *
   * <ul>
   *   <li>{@code enable.idempotence=true}, {@code acks=all}: no duplicate from a retry, no record
   *       acknowledged before every in-sync replica has it; with at most 5 requests in flight per
   *       connection the producer keeps each partition's order across retries.
   *   <li>{@code linger.ms=5}, {@code batch.size=65536}, {@code compression.type=lz4}: batches of
   *       up to 64 KiB per partition, sent after 5 ms at most, compressed with LZ4 (lz4-java falls
   *       back to pure Java where its native library does not load).
   *   <li>{@code buffer.memory=33554432}: 32 MiB of records waiting for the broker; past it {@code
   *       send} blocks.
   *   <li>{@code max.block.ms=120000}, {@code delivery.timeout.ms=120000}: a broker outage of up to
   *       two minutes pauses the sink and loses nothing; a longer one fails sends.
   * </ul>
   */
  public static Map<String, Object> producerConfig(String bootstrapServers) {
    Objects.requireNonNull(bootstrapServers, "bootstrapServers");
    if (bootstrapServers.isEmpty()) {
      throw new IllegalArgumentException("bootstrapServers: \"\" (expected: host:port)");
    }
    Map<String, Object> config = new HashMap<>();
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.put(ProducerConfig.CLIENT_ID_CONFIG, "line-server-kafka");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
    config.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    config.put(ProducerConfig.BATCH_SIZE_CONFIG, 64 * 1024);
    config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    config.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 32L * 1024 * 1024);
    config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 120_000);
    config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 120_000);
    return config;
  }

  /**
   * A key function returning the bytes before the first {@code separator}: for the vehicle feed,
   * {@code firstField((byte) ',')} is the vehicle id. A line without the separator, or with an
   * empty first field, is rejected.
   */
  public static KeyFunction firstField(byte separator) {
    return line -> {
      int end = line.indexOf(separator, 0);
      if (end <= 0) {
        throw new IllegalArgumentException(
            "key: "
                + (end < 0 ? "no '" + (char) separator + "'" : "empty first field")
                + " in \""
                + line.asString()
                + "\" (expected: key"
                + (char) separator
                + "...)");
      }
      byte[] bytes = new byte[end];
      for (int i = 0; i < end; i++) {
        bytes[i] = line.byteAt(i);
      }
      return bytes;
    };
  }

  /**
   * Sends the line; returns once the producer has buffered it, before Kafka acknowledges it.
   *
   * @throws IOException if an earlier send failed (this sink has stopped, see the class comment)
   * @throws Exception whatever the key function or {@code send} throws at once
   */
  @Override
  public void accept(ConnectionInfo connection, Line line) throws Exception {
    Exception earlier = failure.get();
    if (earlier != null) {
      throw new IOException("not sent: an earlier send to " + topic + " failed", earlier);
    }
    byte[] value = line.toByteArray();
    ProducerRecord<byte[], byte[]> record =
        headers
            ? new ProducerRecord<>(
                topic, null, null, key.key(line), value, headers(connection.remoteAddress()))
            : new ProducerRecord<>(topic, key.key(line), value);
    // The callback reports the outcome; the future would only repeat it.
    Future<RecordMetadata> unused =
        producer.send(
            record,
            (metadata, exception) -> {
              if (exception == null) {
                acknowledged.increment();
              } else {
                failed(value, exception);
              }
            });
    sent.increment();
  }

  private static RecordHeaders headers(SocketAddress remote) {
    RecordHeaders headers = new RecordHeaders();
    headers.add(REMOTE_ADDRESS_HEADER, ascii(address(remote)));
    headers.add(RECEIVED_AT_HEADER, ascii(Long.toString(System.currentTimeMillis())));
    return headers;
  }

  private static String address(SocketAddress remote) {
    return remote instanceof InetSocketAddress inet
        ? inet.getHostString() + ":" + inet.getPort()
        : remote.toString();
  }

  private static byte[] ascii(String text) {
    return text.getBytes(StandardCharsets.US_ASCII);
  }

  /** Runs on the producer's I/O thread: records the failure; the first one stops the sink. */
  private void failed(byte[] value, Exception exception) {
    failed.increment();
    if (failure.compareAndSet(null, exception)) {
      LOGGER.log(
          Level.ERROR,
          "Kafka send to "
              + topic
              + " failed; this sink stops and rejects every later line. Lost: \""
              + new String(
                  Arrays.copyOf(value, Math.min(value.length, 200)), StandardCharsets.UTF_8)
              + "\"",
          exception);
    }
  }

  /** Lines handed to the producer. */
  public long sent() {
    return sent.sum();
  }

  /** Lines Kafka acknowledged (written to every in-sync replica). */
  public long acknowledged() {
    return acknowledged.sum();
  }

  /** Lines the producer gave up on after {@link #accept} returned: they are lost. */
  public long failedSends() {
    return failed.sum();
  }

  /** The first send that failed after {@link #accept} returned, or {@code null}. */
  public @Nullable Exception failure() {
    return failure.get();
  }

  /**
   * Flushes the producer, waiting until every line sent is acknowledged or has failed (at most
   * {@code delivery.timeout.ms} for a broker that does not answer), then closes it. Close the
   * server first, so no line arrives after the flush. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      producer.flush();
    } finally {
      producer.close(Duration.ofSeconds(30));
    }
  }
}
