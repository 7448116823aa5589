package dev.lineserver.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The live page in a real browser: headless Chromium loads it from a running service with a
 * simulated fleet, and the test reads the page's DOM over the DevTools protocol.
 */
final class LivePageTest {
  private static final int VEHICLES = 40;
  private static final Path SCREENSHOT = Path.of("target", "live-page.png");

  /** What the page shows, read from its DOM as one JSON object. */
  private static final String READ_PAGE =
      "JSON.stringify({"
          + "updates: Number(document.body.dataset.updates),"
          + "marks: document.querySelectorAll('#vehicles circle.vehicle').length,"
          + "lines: document.getElementById('lines').textContent,"
          + "linesPerSecond: document.getElementById('linesPerSecond').textContent,"
          + "vehicles: document.getElementById('vehicleCount').textContent,"
          + "open: document.getElementById('openConnections').textContent,"
          + "rejected: document.getElementById('rejected').textContent,"
          + "status: document.getElementById('status').className})";

  /** One reading of the page. */
  record Reading(
      int updates,
      int marks,
      String lines,
      String linesPerSecond,
      String vehicles,
      String open,
      String rejected,
      String status) {

    static Reading parse(String json) {
      return new Reading(
          Integer.parseInt(field(json, "updates")),
          Integer.parseInt(field(json, "marks")),
          field(json, "lines"),
          field(json, "linesPerSecond"),
          field(json, "vehicles"),
          field(json, "open"),
          field(json, "rejected"),
          field(json, "status"));
    }

    private static String field(String json, String name) {
      // A string ("1,234") or a number (7).
      Matcher matcher = Pattern.compile("\"" + name + "\":(?:\"([^\"]*)\"|([^,}]*))").matcher(json);
      if (!matcher.find()) {
        throw new AssertionError("no " + name + " in " + json);
      }
      return matcher.group(1) != null ? matcher.group(1) : matcher.group(2);
    }
  }

  @Test
  void page_simulatedFleet_plotsEveryVehicleAndItsFiguresChange(@TempDir Path temp)
      throws Exception {
    HeadlessChromium.require();
    // 20 positions per vehicle per second, 1 in 50 malformed: rejected lines show up at once.
    VehicleService.Options options =
        new VehicleService.Options(
            InetAddress.getLoopbackAddress(), 0, VEHICLES, 4, 20, 50, 0, null);
    PrintStream out = new PrintStream(new ByteArrayOutputStream(), true, UTF_8);
    List<ProcessHandle> chromiumProcesses;
    try (VehicleService service = VehicleService.start(options, out)) {
      HeadlessChromium browser =
          HeadlessChromium.open(
              requireNonNull(service.pageUrl()), temp.resolve("profile"), 1280, 800);
      try {
        AtomicReference<Reading> reading = new AtomicReference<>();
        await("the page showing every vehicle")
            .atMost(HeadlessChromium.TIMEOUT)
            .pollInterval(Duration.ofMillis(250))
            .until(
                () -> {
                  reading.set(Reading.parse(browser.evaluate(READ_PAGE)));
                  return reading.get().marks() == VEHICLES;
                });
        Reading first = reading.get();
        assertThat(first.updates()).isPositive();
        assertThat(first.vehicles()).isEqualTo(Integer.toString(VEHICLES));
        assertThat(first.open()).isEqualTo("4");
        assertThat(first.status()).isEqualTo("live");

        // Two more events: the total has grown, lines/s is measured, and some lines rejected.
        await("the page's figures changing")
            .atMost(HeadlessChromium.TIMEOUT)
            .pollInterval(Duration.ofMillis(250))
            .until(
                () -> {
                  reading.set(Reading.parse(browser.evaluate(READ_PAGE)));
                  return reading.get().updates() >= first.updates() + 2
                      && !reading.get().rejected().equals("0");
                });
        Reading later = reading.get();
        assertThat(later.lines()).isNotEqualTo(first.lines());
        assertThat(number(later.lines())).isGreaterThan(number(first.lines()));
        assertThat(number(later.linesPerSecond())).isPositive();
        assertThat(later.marks()).isEqualTo(VEHICLES);

        browser.screenshot(SCREENSHOT);
      } finally {
        browser.close();
      }
      chromiumProcesses = browser.killed();
    }
    assertThat(chromiumProcesses).isNotEmpty().noneMatch(ProcessHandle::isAlive);
    byte[] png = Files.readAllBytes(SCREENSHOT);
    assertThat(png).startsWith(0x89, 'P', 'N', 'G');
    assertThat(png.length).isGreaterThan(10_000);
  }

  /** A figure as the page formats it, e.g. {@code 1,234}. */
  private static long number(String shown) {
    return Long.parseLong(shown.replace(",", ""));
  }
}
