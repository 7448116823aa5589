package dev.lineserver.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lineserver.LineServer;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A JVM started by a test to run one of the test programs, on the core's and the tests' classes
 * only, optionally under a lower {@code ulimit -n}. Its output lines are queued for the test.
 */
public final class ChildJvm implements AutoCloseable {
  private final Process process;
  private final BlockingQueue<String> output = new LinkedBlockingQueue<>();
  private final List<String> history = new ArrayList<>();
  private final List<String> unclaimed = new ArrayList<>();
  private final Thread reader;

  private ChildJvm(Process process) {
    this.process = process;
    this.reader = new Thread(this::readOutput, "test-child-output");
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts {@code mainClass} with {@code args}; {@code openFiles} > 0 sets the child's limit. */
  public static ChildJvm start(int openFiles, Class<?> mainClass, String... args)
      throws IOException {
    return start(List.of(), openFiles, mainClass, args);
  }

  /**
   * Starts {@code mainClass} with {@code args} under the command {@code prefix}, such as {@code ip
   * netns exec NAME}.
   */
  public static ChildJvm startUnder(List<String> prefix, Class<?> mainClass, String... args)
      throws IOException {
    return start(prefix, 0, mainClass, args);
  }

  private static ChildJvm start(
      List<String> prefix, int openFiles, Class<?> mainClass, String... args) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String classPath = location(LineServer.class) + File.pathSeparator + location(ChildJvm.class);
    List<String> command = new ArrayList<>(prefix);
    command.add(java);
    command.add("-Xmx256m");
    command.add("-cp");
    command.add(classPath);
    command.add(mainClass.getName());
    command.addAll(List.of(args));
    if (openFiles > 0) {
      List<String> shell =
          new ArrayList<>(
              List.of("bash", "-c", "ulimit -n " + openFiles + " && exec \"$@\"", "--"));
      shell.addAll(command);
      command = shell;
    }
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    return new ChildJvm(process);
  }

  private static String location(Class<?> type) {
    try {
      return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private void readOutput() {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        System.out.println("[child] " + line);
        output.add(line);
      }
    } catch (IOException e) {
      output.add("output failed: " + e);
    }
  }

  /**
   * Waits for an output line starting with any of {@code prefixes}, also among lines passed over by
   * earlier waits; returns the first such line not yet returned.
   */
  public String await(long seconds, String... prefixes) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (true) {
      for (int i = 0; i < unclaimed.size(); i++) {
        String line = unclaimed.get(i);
        for (String prefix : prefixes) {
          if (line.startsWith(prefix)) {
            unclaimed.remove(i);
            return line;
          }
        }
      }
      long left = deadline - System.nanoTime();
      @Nullable String line = output.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
      assertThat(line).as("child output starting with one of %s", List.of(prefixes)).isNotNull();
      history.add(line);
      unclaimed.add(line);
    }
  }

  /** Every output line received so far, in order. */
  public List<String> history() {
    return List.copyOf(history);
  }

  /** Closes the child's standard input. */
  public void endInput() throws IOException {
    process.getOutputStream().close();
  }

  /** Sends a line to the child's standard input. */
  public void tell(String line) throws IOException {
    process.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
    process.getOutputStream().flush();
  }

  public int waitForExit(long seconds) throws InterruptedException {
    assertThat(process.waitFor(seconds, TimeUnit.SECONDS)).as("child exited in time").isTrue();
    return process.exitValue();
  }

  @Override
  public void close() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
