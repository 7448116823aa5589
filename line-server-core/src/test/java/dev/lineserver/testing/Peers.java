package dev.lineserver.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs real client programs. A missing program skips its test with the Debian package to install,
 * unless {@code LINESERVER_REQUIRE_PEERS=1} (as in CI), where it fails the test.
 */
public final class Peers {
  private Peers() {}

  /** Returns {@code program}'s path; skips or fails the test if it is not installed. */
  public static String require(String program, String debianPackage) {
    String path = System.getenv("PATH");
    String dirs = (path == null ? "/usr/bin:/bin" : path) + ":/usr/sbin:/sbin"; // haproxy, rsyslogd
    for (String dir : dirs.split(File.pathSeparator)) {
      File file = new File(dir, program);
      if (file.canExecute()) {
        return file.getPath();
      }
    }
    throw unavailable(
        program + " not found on PATH: install it with 'apt-get install " + debianPackage + "'");
  }

  /**
   * Skips the test with {@code message}, or fails it under {@code LINESERVER_REQUIRE_PEERS=1}: what
   * it needs from the machine is missing. Returns nothing; {@code throw} it for the compiler.
   */
  public static AssertionError unavailable(String message) {
    if ("1".equals(System.getenv("LINESERVER_REQUIRE_PEERS"))) {
      fail(message + " (LINESERVER_REQUIRE_PEERS=1)");
    }
    Assumptions.abort(message);
    throw new AssertionError("unreachable");
  }

  /** Runs {@code command} with {@code input} on its standard input; fails if it does not exit 0. */
  public static void run(List<String> command, String input)
      throws IOException, InterruptedException {
    assertThat(exitCode(command, input)).as("%s exit code", command).isZero();
  }

  /** Runs {@code command} with {@code input} on its standard input; returns its exit code. */
  public static int exitCode(List<String> command, String input)
      throws IOException, InterruptedException {
    Process process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    try (OutputStream stdin = process.getOutputStream()) {
      stdin.write(input.getBytes(StandardCharsets.UTF_8));
    }
    boolean exited = process.waitFor(Lines.TIMEOUT_SECONDS, TimeUnit.SECONDS);
    if (!exited) {
      process.destroyForcibly();
    }
    assertThat(exited).as("%s exited in time", command).isTrue();
    return process.exitValue();
  }
}
