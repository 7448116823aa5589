package dev.lineserver.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * Debian's {@code chromium}, headless, showing one page and driven over the DevTools protocol: a
 * WebSocket to the page's target, found through the port Chromium writes to {@code
 * DevToolsActivePort} in its fresh profile directory. A missing {@code chromium} skips the test
 * with the package to install, unless {@code LINESERVER_REQUIRE_PEERS=1} (as in CI), where it fails
 * it. {@link #close()} kills Chromium and every process it started, and waits for them.
 */
final class HeadlessChromium implements AutoCloseable {
  static final Duration TIMEOUT = Duration.ofSeconds(30);

  private static final Pattern WS_URL =
      Pattern.compile("\"webSocketDebuggerUrl\"\\s*:\\s*\"(ws://[^\"]+/devtools/page/[^\"]+)\"");

  private final Process process;
  private final List<ProcessHandle> tree = new ArrayList<>();
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(TIMEOUT).build();
  private final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
  private final AtomicInteger ids = new AtomicInteger();
  private WebSocket socket;

  private HeadlessChromium(Process process) {
    this.process = process;
  }

  /** Chromium's path; skips or fails the test if it is not installed. */
  static String require() {
    String path = System.getenv("PATH");
    for (String dir : (path == null ? "/usr/bin:/bin" : path).split(File.pathSeparator)) {
      File file = new File(dir, "chromium");
      if (file.canExecute()) {
        return file.getPath();
      }
    }
    String message = "chromium not found on PATH: install it with 'apt-get install chromium'";
    if ("1".equals(System.getenv("LINESERVER_REQUIRE_PEERS"))) {
      fail(message + " (LINESERVER_REQUIRE_PEERS=1)");
    }
    Assumptions.abort(message);
    throw new AssertionError("unreachable");
  }

  /** Starts Chromium on {@code url} with a fresh profile in {@code profile}, and connects. */
  static HeadlessChromium open(String url, Path profile, int width, int height)
      throws IOException, InterruptedException {
    String chromium = require();
    // Chromium's temporary files (its SingletonSocket directory) go with the profile.
    Path tmp = Files.createDirectories(profile.resolveSibling(profile.getFileName() + ".tmp"));
    ProcessBuilder builder =
        new ProcessBuilder(
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--window-size=" + width + "," + height,
                "--remote-debugging-port=0",
                "--user-data-dir=" + profile,
                url)
            .redirectErrorStream(true)
            .redirectOutput(profile.resolveSibling(profile.getFileName() + ".log").toFile());
    builder.environment().put("TMPDIR", tmp.toString());
    Process process = builder.start();
    HeadlessChromium browser = new HeadlessChromium(process);
    try {
      browser.connect(profile.resolve("DevToolsActivePort"));
      // Headless, the window's size is not quite the page's: set the page's.
      browser.call(
          "Emulation.setDeviceMetricsOverride",
          String.format(
              Locale.ROOT,
              "{\"width\":%d,\"height\":%d,\"deviceScaleFactor\":1,\"mobile\":false}",
              width,
              height));
      return browser;
    } catch (RuntimeException | AssertionError e) {
      browser.close();
      throw e;
    }
  }

  private void connect(Path activePort) {
    AtomicReference<String> ws = new AtomicReference<>();
    await("chromium's page target")
        .atMost(TIMEOUT)
        .pollInterval(Duration.ofMillis(100))
        .failFast("chromium exited", () -> !process.isAlive())
        .until(
            () -> {
              ws.set(pageTarget(activePort));
              return ws.get() != null;
            });
    socket =
        http.newWebSocketBuilder()
            .connectTimeout(TIMEOUT)
            .buildAsync(URI.create(ws.get()), new Collector())
            .orTimeout(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
            .join();
  }

  /** The WebSocket URL of the page, or null while Chromium is not ready. */
  private String pageTarget(Path activePort) throws InterruptedException {
    try {
      List<String> lines = Files.readAllLines(activePort, UTF_8);
      if (lines.isEmpty() || lines.get(0).isBlank()) {
        return null;
      }
      int port = Integer.parseInt(lines.get(0).trim());
      String list =
          http.send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list"))
                      .timeout(TIMEOUT)
                      .build(),
                  HttpResponse.BodyHandlers.ofString(UTF_8))
              .body();
      Matcher matcher = WS_URL.matcher(list);
      return matcher.find() ? matcher.group(1) : null;
    } catch (IOException | NumberFormatException e) {
      return null; // not written yet, or not listening yet
    }
  }

  /** Collects whole text messages; asks for the next frame after each. */
  private final class Collector implements WebSocket.Listener {
    private final StringBuilder partial = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        messages.add(partial.toString());
        partial.setLength(0);
      }
      webSocket.request(1);
      return null;
    }
  }

  /**
   * Sends a DevTools command and returns its whole reply, a JSON text; events that come between are
   * dropped.
   */
  String call(String method, String paramsJson) throws InterruptedException {
    int id = ids.incrementAndGet();
    socket
        .sendText(
            String.format(
                Locale.ROOT, "{\"id\":%d,\"method\":\"%s\",\"params\":%s}", id, method, paramsJson),
            true)
        .orTimeout(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .join();
    String prefix = "{\"id\":" + id + ",";
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (true) {
      String message = messages.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (message == null) {
        throw new AssertionError("no reply to " + method + " in " + TIMEOUT);
      }
      if (message.startsWith(prefix)) {
        if (message.contains("\"error\":")) {
          throw new AssertionError(method + ": " + message);
        }
        return message;
      }
    }
  }

  /**
   * The string value of the JavaScript {@code expression} in the page, e.g. a {@code
   * JSON.stringify(...)}; as the JSON-escaped text DevTools returns it.
   */
  String evaluate(String expression) throws InterruptedException {
    String reply =
        call(
            "Runtime.evaluate",
            "{\"expression\":\""
                + expression.replace("\\", "\\\\").replace("\"", "\\\"")
                + "\",\"returnByValue\":true}");
    Matcher matcher = Pattern.compile("\"value\":\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(reply);
    if (!matcher.find()) {
      throw new AssertionError("no string value in " + reply);
    }
    return matcher.group(1).replace("\\\"", "\"").replace("\\\\", "\\");
  }

  /** Saves what the page shows now as a PNG. */
  void screenshot(Path png) throws InterruptedException, IOException {
    String reply = call("Page.captureScreenshot", "{\"format\":\"png\"}");
    Matcher matcher = Pattern.compile("\"data\":\"([A-Za-z0-9+/=]+)\"").matcher(reply);
    if (!matcher.find()) {
      throw new AssertionError("no screenshot in " + reply.substring(0, 200));
    }
    Files.createDirectories(png.toAbsolutePath().getParent());
    Files.write(png, Base64.getDecoder().decode(matcher.group(1)));
  }

  /** Kills Chromium and every process it started, and waits for them all to end. */
  @Override
  public void close() {
    if (socket != null) {
      socket.abort();
    }
    tree.add(process.toHandle());
    process.descendants().forEach(tree::add);
    for (ProcessHandle handle : tree) {
      handle.destroyForcibly();
    }
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    for (ProcessHandle handle : tree) {
      long left = deadline - System.nanoTime();
      try {
        handle.onExit().get(Math.max(1, left), TimeUnit.NANOSECONDS);
      } catch (ExecutionException | TimeoutException e) {
        throw new AssertionError("chromium process " + handle.pid() + " still alive", e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for chromium to end", e);
      }
    }
  }

  /** The processes {@link #close()} killed; all ended when it returned. */
  List<ProcessHandle> killed() {
    return List.copyOf(tree);
  }
}
