package dev.lineserver.benchmarks.load;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM (server or client) driven over its stdin/stdout; its stderr goes to a log file. Every
 * live child is destroyed by {@link #destroyAll()}, which the orchestrator's shutdown hook calls; a
 * child also exits by itself when its stdin ends.
 */
final class ChildJvm implements AutoCloseable {
  private static final Set<ChildJvm> LIVE = ConcurrentHashMap.newKeySet();
  private static final String EOF = "\u0000EOF";

  private final String name;
  private final Process process;
  private final Writer stdin;
  private final Path log;
  private final BlockingQueue<String> stdout = new LinkedBlockingQueue<>();

  private ChildJvm(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
    this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    Thread reader = new Thread(this::pump, "child-stdout-" + name);
    reader.setDaemon(true);
    reader.start();
  }

  static ChildJvm start(String name, List<String> command, Path logDir) throws IOException {
    Path log = logDir.resolve(name + ".log");
    Process process =
        new ProcessBuilder(command)
            .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    ChildJvm child = new ChildJvm(name, process, log);
    LIVE.add(child);
    return child;
  }

  private void pump() {
    try (var reader = process.inputReader(StandardCharsets.UTF_8)) {
      String line;
      while ((line = reader.readLine()) != null) {
        stdout.add(line);
      }
    } catch (IOException e) {
      // The child is gone.
    } finally {
      stdout.add(EOF);
    }
  }

  void send(String command) throws IOException {
    stdin.write(command + "\n");
    stdin.flush();
  }

  /** Waits for a stdout line that starts with one of {@code prefixes} and returns it. */
  String expect(Duration timeout, String... prefixes) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      String line = stdout.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (line == null) {
        throw new IOException(name + ": no " + String.join("/", prefixes) + " within " + timeout);
      }
      if (line.equals(EOF)) {
        throw new IOException(name + " exited; " + tail());
      }
      for (String prefix : prefixes) {
        if (line.startsWith(prefix)) {
          return line;
        }
      }
    }
  }

  /** Sends {@code command} and returns the reply's fields after its first word. */
  long[] ask(String command, String reply) throws IOException, InterruptedException {
    send(command);
    String[] words = expect(Duration.ofSeconds(60), reply + " ").split(" ", -1);
    long[] values = new long[words.length - 1];
    for (int i = 1; i < words.length; i++) {
      values[i - 1] = Long.parseLong(words[i]);
    }
    return values;
  }

  private String tail() {
    try {
      List<String> lines = Files.readAllLines(log);
      return "last stderr lines ("
          + log
          + "):\n  "
          + String.join("\n  ", lines.subList(Math.max(0, lines.size() - 10), lines.size()));
    } catch (IOException | UncheckedIOException e) {
      return "see " + log;
    }
  }

  /** Ends the child: SIGTERM, then SIGKILL after 5 s. */
  @Override
  public void close() {
    LIVE.remove(this);
    try {
      stdin.close();
    } catch (IOException e) {
      // The child is gone already.
    }
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  static void destroyAll() {
    for (ChildJvm child : LIVE) {
      child.process.destroyForcibly();
    }
  }
}
