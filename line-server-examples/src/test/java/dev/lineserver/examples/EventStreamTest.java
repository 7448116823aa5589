package dev.lineserver.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The live page's HTTP side: {@code /} and {@code /events}, over real loopback sockets. */
final class EventStreamTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  private static final Pattern LINES = Pattern.compile("\"lines\":(\\d+)");

  private final PrintStream out = new PrintStream(new ByteArrayOutputStream(), true, UTF_8);
  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(TIMEOUT).build();

  @AfterEach
  void noThreadSurvives() {
    await()
        .atMost(TIMEOUT)
        .untilAsserted(
            () ->
                assertThat(Thread.getAllStackTraces().keySet())
                    .filteredOn(Thread::isAlive)
                    .extracting(Thread::getName)
                    .noneMatch(
                        name ->
                            name.startsWith(VehicleService.THREAD_PREFIX)
                                || name.equals("HTTP-Dispatcher")
                                || name.startsWith(FleetSimulator.THREAD_PREFIX)));
  }

  private static VehicleService.Options simulating(int vehicles) {
    return new VehicleService.Options(LOOPBACK, 0, vehicles, 2, 20, 0, 0, null);
  }

  private static VehicleService.Options listenOnly() {
    return new VehicleService.Options(LOOPBACK, 0, 0, 1, 1, 0, 0, null);
  }

  @Test
  void events_simulatedFleet_oneJsonEventPerSecondWithFiguresAndEveryPosition() throws Exception {
    try (VehicleService service = VehicleService.start(simulating(5), out)) {
      HttpResponse<InputStream> response = open(service, EventStream.PATH);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.headers().firstValue("Content-Type"))
          .hasValue("text/event-stream; charset=utf-8");
      try (BufferedReader events = reader(response.body())) {
        String event = nextEvent(events);
        long start = System.nanoTime();
        while (!event.contains("\"vehicles\":5,")) {
          event = nextEvent(events);
          assertThat(System.nanoTime() - start).isLessThan(TIMEOUT.toNanos());
        }
        assertThat(event)
            .matches(
                "\\{\"lines\":\\d+,\"linesPerSecond\":\\d+\\.\\d,\"vehicles\":5,\"rejected\":0,"
                    + "\"openConnections\":2,\"positions\":\\[.*]}");
        assertThat(count(event, "[\"veh-")).isEqualTo(5);

        String next = nextEvent(events);
        assertThat(lines(next)).isGreaterThan(lines(event));
      }
    }
  }

  @Test
  void events_moreVehiclesThanTheCap_sendsTheCapAndTheirCount() throws Exception {
    int vehicles = EventStream.MAX_VEHICLES + 1;
    try (VehicleService service = VehicleService.start(listenOnly(), out);
        Socket socket = new Socket(LOOPBACK, service.port())) {
      StringBuilder lines = new StringBuilder();
      for (int i = 0; i < vehicles; i++) {
        lines.append("v").append(i).append(",1000,52.5,13.4,30,90\n");
      }
      socket.getOutputStream().write(lines.toString().getBytes(UTF_8));
      socket.getOutputStream().flush();
      await().atMost(TIMEOUT).until(() -> service.tracker().vehicles() == vehicles);

      try (BufferedReader events = reader(open(service, EventStream.PATH).body())) {
        String event = nextEvent(events);
        assertThat(event).contains("\"vehicles\":" + vehicles + ",");
        assertThat(count(event, "[\"v")).isEqualTo(EventStream.MAX_VEHICLES);
      }
    }
  }

  @Test
  void events_beyondMaxClients_503UntilAClientGoes() throws Exception {
    try (VehicleService service = VehicleService.start(listenOnly(), out)) {
      List<Socket> streams = new ArrayList<>();
      try {
        for (int i = 0; i < EventStream.MAX_CLIENTS; i++) {
          Socket socket = rawGet(service);
          streams.add(socket);
          BufferedReader reader = reader(socket.getInputStream());
          assertThat(reader.readLine()).isEqualTo("HTTP/1.1 200 OK");
          // The first event is written at once: this client holds its slot.
          while (!requireNonNull(reader.readLine()).startsWith("data: ")) {
            // headers, the retry line, chunk sizes
          }
        }
        assertThat(status(service)).isEqualTo(503);
        // The page and the metrics are still answered.
        assertThat(open(service, LivePage.PATH).statusCode()).isEqualTo(200);

        streams.remove(0).close();
        // Its thread sees it gone at its next write, within a second or two.
        await().atMost(TIMEOUT).until(() -> status(service) == 200);
      } finally {
        for (Socket socket : streams) {
          socket.close();
        }
      }
    }
  }

  @Test
  void close_whileStreaming_endsTheStreamAndEveryThread() throws Exception {
    VehicleService service = VehicleService.start(listenOnly(), out);
    try (Socket socket = rawGet(service)) {
      BufferedReader reader = reader(socket.getInputStream());
      assertThat(reader.readLine()).isEqualTo("HTTP/1.1 200 OK");

      long start = System.nanoTime();
      service.close();
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
      // The rest of the response, then the end of the stream.
      for (int i = 0; i < 100 && reader.readLine() != null; i++) {
        assertThat(i).isLessThan(99);
      }
    } finally {
      service.close();
    }
  }

  @Test
  void page_rootServesTheHtmlAndOtherPaths404() throws Exception {
    try (VehicleService service = VehicleService.start(listenOnly(), out)) {
      HttpResponse<String> page =
          client.send(
              HttpRequest.newBuilder(URI.create(requireNonNull(service.pageUrl())))
                  .timeout(TIMEOUT)
                  .build(),
              HttpResponse.BodyHandlers.ofString(UTF_8));
      assertThat(page.statusCode()).isEqualTo(200);
      assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
      assertThat(page.body())
          .contains("<svg id=\"plot\"")
          .contains("new EventSource(\"events\")")
          .doesNotContain("src=\"http", "href=\"http", "url(");

      assertThat(open(service, "/favicon.ico").statusCode()).isEqualTo(404);
    }
  }

  private HttpResponse<InputStream> open(VehicleService service, String path)
      throws IOException, InterruptedException {
    String url = requireNonNull(service.pageUrl()).replaceFirst("/$", path);
    return client.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(TIMEOUT).build(),
        HttpResponse.BodyHandlers.ofInputStream());
  }

  private int status(VehicleService service) throws IOException, InterruptedException {
    HttpResponse<InputStream> response = open(service, EventStream.PATH);
    response.body().close();
    return response.statusCode();
  }

  private static Socket rawGet(VehicleService service) throws IOException {
    URI uri = URI.create(requireNonNull(service.pageUrl()));
    Socket socket = new Socket(LOOPBACK, uri.getPort());
    socket.setSoTimeout((int) TIMEOUT.toMillis());
    socket
        .getOutputStream()
        .write(("GET " + EventStream.PATH + " HTTP/1.1\r\nHost: test\r\n\r\n").getBytes(UTF_8));
    socket.getOutputStream().flush();
    return socket;
  }

  private static BufferedReader reader(InputStream in) {
    return new BufferedReader(new InputStreamReader(in, UTF_8));
  }

  /** The JSON of the next {@code data:} line; fails after {@link #TIMEOUT} or 100 lines. */
  private static String nextEvent(BufferedReader events) throws IOException {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    for (int i = 0; i < 100 && System.nanoTime() < deadline; i++) {
      String line = events.readLine();
      assertThat(line).as("stream ended").isNotNull();
      if (line.startsWith("data: ")) {
        return line.substring("data: ".length());
      }
    }
    throw new AssertionError("no event");
  }

  private static long lines(String event) {
    Matcher matcher = LINES.matcher(event);
    assertThat(matcher.find()).as(event).isTrue();
    return Long.parseLong(matcher.group(1));
  }

  private static int count(String text, String part) {
    int count = 0;
    for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
      count++;
    }
    return count;
  }
}
