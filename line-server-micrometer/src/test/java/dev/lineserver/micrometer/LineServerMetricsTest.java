package dev.lineserver.micrometer;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;
import static org.awaitility.Awaitility.await;

import dev.lineserver.CloseReason;
import dev.lineserver.ConnectionInfo;
import dev.lineserver.LineServer;
import dev.lineserver.LineServerListener;
import dev.lineserver.RefusalReason;
import dev.lineserver.SendQueueFull;
import dev.lineserver.SendResult;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ref.WeakReference;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

final class LineServerMetricsTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  private static final UnaryOperator<LineServer.Builder> ANY_SINK =
      builder -> builder.sink(line -> {});

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @Test
  void bindTo_freshServer_everyMeterAtZeroWithItsTypeTagsAndUnit() throws IOException {
    try (LineServer server = start(ANY_SINK)) {
      new LineServerMetrics(server, Tags.of("server", "ingest")).bindTo(registry);

      List<String> expected = new ArrayList<>();
      expected.add("lineserver.connections.open{server=ingest} GAUGE null");
      expected.add("lineserver.connections.accepted{server=ingest} COUNTER null");
      expected.add("lineserver.connections.refused{server=ingest} COUNTER null");
      for (CloseReason reason : CloseReason.values()) {
        expected.add(
            "lineserver.connections.closed{reason="
                + reason.name().toLowerCase(Locale.ROOT)
                + ",server=ingest} COUNTER null");
      }
      for (String outcome : List.of("delivered", "too_long", "dropped", "partial_dropped")) {
        expected.add("lineserver.lines{outcome=" + outcome + ",server=ingest} COUNTER null");
      }
      expected.add("lineserver.sink.failures{server=ingest} COUNTER null");
      expected.add("lineserver.sink.pending{server=ingest} GAUGE bytes");
      expected.add("lineserver.reads.paused{server=ingest} COUNTER null");
      expected.add("lineserver.restart.limits.reached{server=ingest} COUNTER null");
      expected.add("lineserver.received{server=ingest} COUNTER bytes");
      expected.add("lineserver.sent{server=ingest} COUNTER bytes");
      expected.add("lineserver.sends.refused{server=ingest} COUNTER null");
      expected.add("lineserver.sends.dropped{server=ingest} COUNTER bytes");
      assertThat(registry.getMeters())
          .extracting(LineServerMetricsTest::describe)
          .containsExactlyInAnyOrderElementsOf(expected);
      assertThat(registry.getMeters())
          .allSatisfy(meter -> assertThat(meter.getId().getDescription()).isNotBlank())
          .allSatisfy(
              meter ->
                  assertThat(meter.measure())
                      .singleElement()
                      .satisfies(measurement -> assertThat(measurement.getValue()).isZero()));
    }
  }

  @Test
  void bindTo_linesRepliesAndPeerEof_metersCountEachEvent() throws Exception {
    BlockingQueue<SendResult> sends = new LinkedBlockingQueue<>();
    try (LineServer server =
        start(
            builder ->
                builder
                    .maxSendQueueBytes(4)
                    .sendQueueFull(SendQueueFull.REFUSE)
                    .connectionSink(
                        (connection, line) -> {
                          switch (line) {
                            case "bad" -> throw new IllegalArgumentException("bad line");
                            case "flood" -> {
                              // The first is written once the sink call has returned: the
                              // second finds the queue holding 3 of its 4 bytes.
                              sends.add(connection.send("abc"));
                              sends.add(connection.send("abc"));
                            }
                            default -> {}
                          }
                        }))) {
      new LineServerMetrics(server, Tags.of("server", "ingest")).bindTo(registry);
      byte[] bytes =
          ("a\nbad\n" + "x".repeat(20) + "\nflood\n" + "y".repeat(30) + "\n").getBytes(UTF_8);
      try (Socket socket = new Socket(LOOPBACK, server.port())) {
        socket.setSoTimeout((int) TIMEOUT.toMillis());
        OutputStream out = socket.getOutputStream();
        out.write(bytes);
        out.flush();
        InputStream in = socket.getInputStream();
        assertThat(in.readNBytes(3)).isEqualTo("abc".getBytes(UTF_8));
        assertThat(sends.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS))
            .isEqualTo(SendResult.QUEUED);
        assertThat(sends.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS))
            .isEqualTo(SendResult.FULL);

        await().atMost(TIMEOUT).until(() -> lines("delivered") == 3);
        await().atMost(TIMEOUT).until(() -> lines("too_long") == 2);
        assertThat(counter("lineserver.connections.accepted")).isEqualTo(1);
        assertThat(gauge("lineserver.connections.open")).isEqualTo(1);
        assertThat(counter("lineserver.received")).isEqualTo(bytes.length);
        assertThat(counter("lineserver.sent")).isEqualTo(3);
        assertThat(counter("lineserver.sink.failures")).isEqualTo(1);
        assertThat(counter("lineserver.sends.refused")).isEqualTo(1);
        assertThat(closed(CloseReason.PEER_EOF)).isZero();
      }

      await().atMost(TIMEOUT).until(() -> closed(CloseReason.PEER_EOF) == 1);
      assertThat(gauge("lineserver.connections.open")).isZero();
      assertThat(lines("delivered")).isEqualTo(3);
      assertThat(lines("dropped")).isZero();
      assertThat(lines("partial_dropped")).isZero();
      assertThat(counter("lineserver.connections.refused")).isZero();
      assertThat(counter("lineserver.restart.limits.reached")).isZero();
      assertThat(counter("lineserver.reads.paused")).isZero();
      assertThat(counter("lineserver.sends.dropped")).isZero();
      assertThat(gauge("lineserver.sink.pending")).isZero();
      assertThat(closedOtherThan(CloseReason.PEER_EOF)).isZero();
    }
  }

  @Test
  void bindTo_maxConnectionsReached_countsTheRefusalAtAccept() throws Exception {
    BlockingQueue<RefusalReason> refusals = new LinkedBlockingQueue<>();
    try (LineServer server =
        start(
            builder ->
                ANY_SINK
                    .apply(builder)
                    .maxConnections(1)
                    .listener(
                        new QuietListener() {
                          @Override
                          public void connectionRefused(
                              SocketAddress remoteAddress, RefusalReason reason) {
                            refusals.add(reason);
                          }
                        }))) {
      new LineServerMetrics(server, Tags.empty()).bindTo(registry);
      try (Socket first = new Socket(LOOPBACK, server.port())) {
        first.getOutputStream().write("hi\n".getBytes(UTF_8));
        await().atMost(TIMEOUT).until(() -> gauge("lineserver.connections.open") == 1);
        try (Socket second = new Socket(LOOPBACK, server.port())) {
          assertThat(closedByServer(second)).isTrue();
          assertThat(refusals.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS))
              .isEqualTo(RefusalReason.MAX_CONNECTIONS);
          assertThat(counter("lineserver.connections.refused")).isEqualTo(1);
          assertThat(counter("lineserver.connections.accepted")).isEqualTo(2);
          assertThat(gauge("lineserver.connections.open")).isEqualTo(1);
        }
      }
      await().atMost(TIMEOUT).until(() -> gauge("lineserver.connections.open") == 0);
      assertThat(closed(CloseReason.PEER_EOF)).isEqualTo(1);
      assertThat(counter("lineserver.connections.refused")).isEqualTo(1);
    }
  }

  @Test
  void bindTo_applicationCloseAndIdleTimeout_countedByReason() throws Exception {
    try (LineServer server =
        start(
            builder ->
                builder
                    .idleTimeout(Duration.ofMillis(300))
                    .connectionSink(
                        (connection, line) -> {
                          if (line.equals("bye")) {
                            connection.close();
                          }
                        }))) {
      new LineServerMetrics(server, Tags.empty()).bindTo(registry);
      try (Socket leaving = new Socket(LOOPBACK, server.port());
          Socket idle = new Socket(LOOPBACK, server.port())) {
        leaving.setSoTimeout((int) TIMEOUT.toMillis());
        leaving.getOutputStream().write("bye\n".getBytes(UTF_8));
        idle.setSoTimeout((int) TIMEOUT.toMillis());
        idle.getOutputStream().write("partial".getBytes(UTF_8));
        assertThat(leaving.getInputStream().read()).isEqualTo(-1);
        assertThat(idle.getInputStream().read()).isEqualTo(-1);
      }

      await().atMost(TIMEOUT).until(() -> closed(CloseReason.IDLE_TIMEOUT) == 1);
      await().atMost(TIMEOUT).until(() -> closed(CloseReason.APPLICATION_CLOSE) == 1);
      assertThat(lines("partial_dropped")).isEqualTo(1);
      assertThat(lines("delivered")).isEqualTo(1);
      assertThat(closedOtherThan(CloseReason.IDLE_TIMEOUT, CloseReason.APPLICATION_CLOSE)).isZero();
    }
  }

  @Test
  void bindTo_restartLimitReached_countsItAndItsClose() throws Exception {
    try (LineServer server =
        start(
            builder ->
                builder
                    .restartIntensity(0, Duration.ofMinutes(1))
                    .sink(
                        line -> {
                          throw new IllegalStateException("sink down");
                        }))) {
      new LineServerMetrics(server, Tags.empty()).bindTo(registry);
      try (Socket socket = new Socket(LOOPBACK, server.port())) {
        socket.setSoTimeout((int) TIMEOUT.toMillis());
        socket.getOutputStream().write("one\n".getBytes(UTF_8));
        assertThat(socket.getInputStream().read()).isEqualTo(-1);
      }

      await().atMost(TIMEOUT).until(() -> closed(CloseReason.RESTART_LIMIT) == 1);
      assertThat(counter("lineserver.restart.limits.reached")).isEqualTo(1);
      assertThat(counter("lineserver.sink.failures")).isEqualTo(1);
      assertThat(lines("delivered")).isEqualTo(1);
    }
  }

  @Test
  void bindTo_serverDropped_metersDoNotKeepItReachable() throws IOException {
    WeakReference<LineServer> dropped = startBindAndClose();

    await()
        .atMost(TIMEOUT)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              System.gc();
              return dropped.get() == null;
            });
    assertThat(gauge("lineserver.connections.open")).isNaN();
  }

  @Test
  void new_nullArguments_throwNamingThem() throws IOException {
    try (LineServer server = start(ANY_SINK)) {
      assertThatNullPointerException()
          .isThrownBy(() -> new LineServerMetrics(server, nullTags()))
          .withMessage("tags");
    }
  }

  private WeakReference<LineServer> startBindAndClose() throws IOException {
    LineServer server = start(ANY_SINK);
    server.close();
    new LineServerMetrics(server, Tags.empty()).bindTo(registry);
    assertThat(gauge("lineserver.connections.open")).isZero();
    return new WeakReference<>(server);
  }

  @SuppressWarnings("NullAway")
  private static Iterable<Tag> nullTags() {
    return null;
  }

  private double counter(String name) {
    return registry.get(name).functionCounter().count();
  }

  private double gauge(String name) {
    return registry.get(name).gauge().value();
  }

  private double lines(String outcome) {
    return registry.get("lineserver.lines").tag("outcome", outcome).functionCounter().count();
  }

  private double closed(CloseReason reason) {
    return registry
        .get("lineserver.connections.closed")
        .tag("reason", reason.name().toLowerCase(Locale.ROOT))
        .functionCounter()
        .count();
  }

  private double closedOtherThan(CloseReason... reasons) {
    double sum = 0;
    outer:
    for (CloseReason reason : CloseReason.values()) {
      for (CloseReason excluded : reasons) {
        if (reason == excluded) {
          continue outer;
        }
      }
      sum += closed(reason);
    }
    return sum;
  }

  /** Whether the server ended the connection: end of stream, or a reset. */
  private static boolean closedByServer(Socket socket) throws IOException {
    socket.setSoTimeout((int) TIMEOUT.toMillis());
    try {
      return socket.getInputStream().read() == -1;
    } catch (SocketException reset) {
      return true;
    }
  }

  /** {@code name{k=v,...} TYPE unit}, tags in key order. */
  private static String describe(Meter meter) {
    Meter.Id id = meter.getId();
    return id.getName()
        + id.getTags().stream()
            .map(tag -> tag.getKey() + "=" + tag.getValue())
            .collect(Collectors.joining(",", "{", "}"))
        + " "
        + id.getType()
        + " "
        + id.getBaseUnit();
  }

  /**
   * A loopback server with 8-byte lines, given its sink and more by {@code configure}; its listener
   * keeps the expected failures out of the logs.
   */
  static LineServer start(UnaryOperator<LineServer.Builder> configure) throws IOException {
    LineServer.Builder builder =
        LineServer.builder()
            .bindAddress(LOOPBACK)
            .port(0)
            .ioThreads(1)
            .maxLineLength(8)
            .listener(new QuietListener());
    return configure.apply(builder).start();
  }

  /** Logs nothing of what the tests provoke. */
  static class QuietListener implements LineServerListener {
    @Override
    public void lineTooLong(ConnectionInfo connection, long length) {}

    @Override
    public void sinkFailed(ConnectionInfo connection, @Nullable String line, Exception error) {}

    @Override
    public void restartLimitReached(ConnectionInfo connection, int maxRestarts, Duration period) {}

    @Override
    public void sendQueueFull(ConnectionInfo connection, int queuedBytes) {}

    @Override
    public void connectionRefused(SocketAddress remoteAddress, RefusalReason reason) {}
  }
}
