package dev.lineserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.timeout;
import static org.mockito.Mockito.verify;

import dev.lineserver.testing.Lines;
import dev.lineserver.testing.Peers;
import dev.lineserver.testing.Threads;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real rsyslogd, started from a generated configuration and isolated from the system's syslog (no
 * {@code /dev/log}, no klog, its own work directory, pid file and input socket), forwards what
 * {@code logger} writes to its socket with {@code omfwd} over TCP: each message is one line, in
 * order, with its text intact except for the control characters rsyslog escapes on receipt.
 */
final class RsyslogTest {
  private static final int MESSAGES = 200;

  /**
   * RSYSLOG_TraditionalForwardFormat: {@code <PRI>Mmm dd hh:mm:ss HOSTNAME TAG MSG}; the day is
   * space-padded, {@code <13>} is logger's default user.notice.
   */
  private static final Pattern FORWARDED =
      Pattern.compile("<13>[A-Z][a-z]{2} [ 1-3]\\d \\d\\d:\\d\\d:\\d\\d \\S+ it: (.*)");

  private final Lines lines = new Lines();
  private final LineServerListener listener = mock(LineServerListener.class);
  private Process rsyslogd;

  @AfterEach
  void stopRsyslogd() throws InterruptedException {
    if (rsyslogd != null) {
      stop(rsyslogd);
    }
    Threads.assertNoServerThreads();
  }

  @Test
  void loggerThroughRsyslogOmfwd_eachMessageIsOneLineInOrder(
      @TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir) throws Exception {
    String binary = Peers.require("rsyslogd", "rsyslog");
    String logger = Peers.require("logger", "bsdutils");
    List<String> sent = new ArrayList<>();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < MESSAGES; i++) {
      String text =
          switch (i % 4) {
            case 0 -> "message %03d plain";
            case 1 -> "message %03d UTF-8: grüße, żółw, 日本語 ✓";
            case 2 -> "message %03d, with, commas,";
            default -> "message %03d with a\ttab";
          };
      sent.add(text.formatted(i));
      // rsyslog escapes control characters on receipt (parser.escapeControlCharactersOnReceive):
      // a tab arrives as #011, octal; UTF-8 and commas pass through untouched.
      expected.add(text.formatted(i).replace("\t", "#011"));
    }

    try (LineServer server = LineServer.builder().port(0).sink(lines).listener(listener).start()) {
      Path socket = dir.resolve("log.sock");
      Path output = dir.resolve("rsyslogd.log");
      Path config = dir.resolve("rsyslog.conf");
      Files.writeString(
          config,
          String.join(
              "\n",
              "global(workDirectory=\"" + Files.createDirectory(dir.resolve("work")) + "\")",
              "# One worker: batches leave the main queue one at a time, in order.",
              "main_queue(queue.workerThreads=\"1\")",
              "# No /dev/log (and no imklog loaded): only our own socket is read.",
              "module(load=\"imuxsock\" SysSock.Use=\"off\")",
              "input(type=\"imuxsock\" Socket=\"" + socket + "\"",
              "      RateLimit.Interval=\"0\" Ruleset=\"forward\")",
              "# rsyslogd's own start and stop messages go to the default ruleset: nowhere.",
              "ruleset(name=\"forward\") {",
              "  action(type=\"omfwd\" target=\"127.0.0.1\" port=\"" + server.port() + "\"",
              "         protocol=\"tcp\" template=\"RSYSLOG_TraditionalForwardFormat\")",
              "}",
              ""));
      rsyslogd =
          new ProcessBuilder(
                  binary,
                  "-n",
                  "-f",
                  config.toString(),
                  "-i",
                  dir.resolve("rsyslogd.pid").toString())
              .redirectErrorStream(true)
              .redirectOutput(output.toFile())
              .start();
      // imuxsock binds (creating the file) before it reads: datagrams sent from then on wait in
      // the socket's buffer, and logger blocks while that buffer is full.
      await()
          .atMost(Duration.ofSeconds(Lines.TIMEOUT_SECONDS))
          .failFast("rsyslogd exited; see " + output, () -> !rsyslogd.isAlive())
          .until(() -> Files.exists(socket));

      // One message per line of standard input, each as one datagram.
      Peers.run(
          List.of(logger, "--socket", socket.toString(), "--tag", "it"),
          String.join("\n", sent) + "\n");

      List<String> received = new ArrayList<>();
      for (int i = 0; i < MESSAGES; i++) {
        try {
          received.add(lines.take());
        } catch (AssertionError e) {
          throw new AssertionError(
              received.size() + " of " + MESSAGES + " lines arrived; see " + output, e);
        }
      }
      List<String> texts = new ArrayList<>();
      for (String line : received) {
        Matcher matcher = FORWARDED.matcher(line);
        assertThat(matcher.matches())
            .as("'%s' has rsyslog's forward header and tag; see %s", line, output)
            .isTrue();
        texts.add(matcher.group(1));
      }
      assertThat(texts).as("message texts, in order; see %s", output).isEqualTo(expected);

      // Once rsyslogd has closed its connection, no extra line (a split message) is left.
      stop(rsyslogd);
      verify(listener, timeout(Lines.TIMEOUT_SECONDS * 1000))
          .connectionClosed(any(), eq(CloseReason.PEER_EOF));
      assertThat(lines.remaining())
          .as("lines after the %d messages; see %s", MESSAGES, output)
          .isEmpty();
    }
  }

  private static void stop(Process process) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(Lines.TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
