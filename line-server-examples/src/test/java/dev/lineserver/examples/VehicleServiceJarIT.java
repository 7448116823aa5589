package dev.lineserver.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code target/vehicle-service.jar}, as a user runs it: {@code java -jar} in a process of its own,
 * after {@code package} (failsafe, in {@code verify}).
 */
final class VehicleServiceJarIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);
  private static final Pattern LISTENING = Pattern.compile("listening on /127\\.0\\.0\\.1:(\\d+),");
  private static final Pattern PAGE = Pattern.compile("live page at (http://\\S+/),");

  @TempDir Path dir;

  private static Path jar() {
    Path jar = Path.of(System.getProperty("vehicleService.jar", "target/vehicle-service.jar"));
    assertThat(jar).as("built by package").isRegularFile();
    return jar;
  }

  /**
   * {@code java -jar vehicle-service.jar args}, with no {@code VEHICLE_} variable but {@code env},
   * its output in {@code out.txt} and {@code err.txt}. Files, not pipes: when a process exits, the
   * JDK closes its pipe under a thread that reads it, and the last lines are lost.
   */
  private Process start(Map<String, String> env, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-jar");
    command.add(jar().toString());
    command.addAll(List.of(args));
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectOutput(dir.resolve("out.txt").toFile())
            .redirectError(dir.resolve("err.txt").toFile());
    builder.environment().keySet().removeIf(name -> name.startsWith(VehicleService.ENV_PREFIX));
    builder.environment().putAll(env);
    return builder.start();
  }

  /** Runs to its end, bounded; returns its exit code and what it printed. */
  private Finished run(Map<String, String> env, String... args) throws Exception {
    Process process = start(env, args);
    try {
      assertThat(process.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).as("exited").isTrue();
      return new Finished(
          process.exitValue(),
          Files.readString(dir.resolve("out.txt"), UTF_8),
          Files.readString(dir.resolve("err.txt"), UTF_8));
    } finally {
      process.destroyForcibly();
    }
  }

  private record Finished(int exitCode, String out, String err) {}

  @Test
  void jar_simulationAndHttpPort_listensServesThePageAndStopsOnSigterm() throws Exception {
    Process process =
        start(
            Map.of("VEHICLE_CONNECTIONS", "2"),
            "--port",
            "0",
            "--http-port",
            "0",
            "--simulate",
            "10",
            "--rate",
            "10");
    try {
      Path out = dir.resolve("out.txt");
      Matcher listening = LISTENING.matcher(next(out, "listening on"));
      assertThat(listening.find()).isTrue();
      Matcher page = PAGE.matcher(next(out, "live page at"));
      assertThat(page.find()).isTrue();
      // A status line once the whole simulated fleet has reported, over the environment's 2.
      assertThat(next(out, "vehicles=10 ")).containsPattern("lines/s=\\d+ .* connections=2 ");

      HttpClient client = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
      HttpResponse<String> response =
          client.send(
              HttpRequest.newBuilder(URI.create(page.group(1))).timeout(TIMEOUT).build(),
              HttpResponse.BodyHandlers.ofString(UTF_8));
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).contains("<svg id=\"plot\"");

      try (Socket socket =
          new Socket(InetAddress.getLoopbackAddress(), Integer.parseInt(listening.group(1)))) {
        socket.setSoTimeout((int) TIMEOUT.toMillis());
        socket.getOutputStream().write("bus-1,1000,52.5,13.4,30,90\n".getBytes(UTF_8));
        BufferedReader replies =
            new BufferedReader(new InputStreamReader(socket.getInputStream(), UTF_8));
        assertThat(replies.readLine()).isEqualTo("ACK bus-1 1000");
      }

      process.destroy(); // SIGTERM: the shutdown hook closes the service and prints the totals
      assertThat(process.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).as("exited").isTrue();
      assertThat(Files.readString(out, UTF_8))
          .as("exit code %d", process.exitValue())
          .containsPattern("stopped: lines=\\d+ vehicles=11 ");
    } finally {
      process.destroyForcibly();
    }
  }

  @Test
  void jar_portOutOfRange_printsValueAndRangeAndExits2() throws Exception {
    Finished fromArgs = run(Map.of(), "--port", "70000");
    assertThat(fromArgs.exitCode()).isEqualTo(2);
    assertThat(fromArgs.err())
        .startsWith("--port: 70000 (expected: 0..65535)\n")
        .contains("Usage: vehicle-service");

    Finished fromEnv = run(Map.of("VEHICLE_HTTP_PORT", "65536"));
    assertThat(fromEnv.exitCode()).isEqualTo(2);
    assertThat(fromEnv.err()).startsWith("--http-port: 65536 (expected: 0..65535)\n");
  }

  @Test
  void jar_help_listsOptionsWithVariablesAndExits0() throws Exception {
    Finished help = run(Map.of(), "--help");

    assertThat(help.exitCode()).isZero();
    assertThat(help.out())
        .contains("--port=N", "env: VEHICLE_PORT", "--http-port, --metrics-port=N")
        .contains("(env: VEHICLE_CONNECTIONS; default: 8)");
  }

  /** The first line of {@code file} holding {@code part}, once there is one; bounded. */
  private static String next(Path file, String part) {
    AtomicReference<String> found = new AtomicReference<>();
    await("a line with \"" + part + "\" in " + file)
        .atMost(TIMEOUT)
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              String text = Files.exists(file) ? Files.readString(file, UTF_8) : "";
              text.lines().filter(line -> line.contains(part)).findFirst().ifPresent(found::set);
              return found.get() != null;
            });
    return found.get();
  }
}
