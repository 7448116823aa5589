package dev.lineserver.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.lineserver.LineServer;
import dev.lineserver.LineServerHealth;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class HealthHandlerTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  private final HttpClient client = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
  private final ExecutorService sinkExecutor = Executors.newSingleThreadExecutor();

  @AfterEach
  void shutDown() throws InterruptedException {
    sinkExecutor.shutdownNow();
    assertThat(sinkExecutor.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void vehicleService_running_healthAnswers200WithItsParts() throws Exception {
    VehicleService.Options options =
        new VehicleService.Options(LOOPBACK, 0, 0, 1, 1, 0, 0, null); // metrics on a free port
    try (VehicleService service =
        VehicleService.start(options, new PrintStream(new ByteArrayOutputStream(), true, UTF_8))) {
      URI uri =
          URI.create(
              requireNonNull(service.metricsUrl())
                  .replace(MetricsEndpoint.PATH, HealthHandler.PATH));
      HttpResponse<String> response = get(uri);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
      assertThat(response.body())
          .startsWith("{\"healthy\":true,\"accepting\":true,\"ioThreads\":")
          .endsWith(",\"sinkStalled\":false,\"sinkWaitingMillis\":0,\"reasons\":[]}");
    }
  }

  @Test
  void health_sinkStalled_503UntilReleased_thenAfterClose503() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    LineServer server =
        LineServer.builder()
            .name("probe")
            .port(0)
            .bindAddress(LOOPBACK)
            .ioThreads(1)
            .sink(
                line -> {
                  if (!release.await(10, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("never released");
                  }
                })
            .sinkExecutor(sinkExecutor)
            .sinkStallThreshold(Duration.ofMillis(200))
            .start();
    HttpServer http = HttpServer.create(new InetSocketAddress(LOOPBACK, 0), 0);
    http.createContext(HealthHandler.PATH, new HealthHandler(server::health));
    http.start();
    try {
      URI uri = URI.create("http://" + hostPort(http) + HealthHandler.PATH);
      assertThat(get(uri).statusCode()).isEqualTo(200);
      try (Socket vehicle = new Socket(LOOPBACK, server.port())) {
        OutputStream out = vehicle.getOutputStream();
        out.write("bus-1,1000,52.5,13.4,30,90\nbus-1,2000,52.5,13.4,30,90\n".getBytes(UTF_8));
        out.flush();
        await().atMost(TIMEOUT).until(() -> get(uri).statusCode() == 503);
        assertThat(get(uri).body())
            .startsWith("{\"healthy\":false,\"accepting\":true,")
            .contains("\"sinkStalled\":true")
            .contains("\"reasons\":[\"sink stalled: lines have waited ");
        release.countDown();
        await().atMost(TIMEOUT).until(() -> get(uri).statusCode() == 200);
      }
      server.close();
      HttpResponse<String> closed = get(uri);
      assertThat(closed.statusCode()).isEqualTo(503);
      assertThat(closed.body())
          .contains("\"accepting\":false")
          .endsWith("\"reasons\":[\"not accepting: the server is closed\"]}");
    } finally {
      http.stop(0);
      server.close();
    }
  }

  @Test
  void json_reasonWithQuotesAndControls_escaped() {
    LineServerHealth health =
        new LineServerHealth(false, 1, 0, Duration.ZERO, false, List.of("a \"b\" \\ c\n"));
    assertThat(HealthHandler.json(health))
        .isEqualTo(
            "{\"healthy\":false,\"accepting\":false,\"ioThreads\":1,\"ioThreadsAlive\":0,"
                + "\"sinkStalled\":false,\"sinkWaitingMillis\":0,"
                + "\"reasons\":[\"a \\\"b\\\" \\\\ c\\u000a\"]}");
  }

  private HttpResponse<String> get(URI uri) throws IOException, InterruptedException {
    return client.send(
        HttpRequest.newBuilder(uri).timeout(TIMEOUT).build(),
        HttpResponse.BodyHandlers.ofString(UTF_8));
  }

  private static String hostPort(HttpServer http) {
    String host = LOOPBACK.getHostAddress();
    return (LOOPBACK instanceof Inet6Address ? "[" + host + "]" : host)
        + ":"
        + http.getAddress().getPort();
  }
}
