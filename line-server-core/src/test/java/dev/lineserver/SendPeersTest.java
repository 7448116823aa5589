package dev.lineserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lineserver.testing.Lines;
import dev.lineserver.testing.ListenerEvents;
import dev.lineserver.testing.Peers;
import dev.lineserver.testing.ServerFixture;
import dev.lineserver.testing.TestPki;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The write path against real peers: {@code nc -N} and {@code socat} half-close at once and still
 * read every reply; {@code openssl s_client} over TLS 1.3 reads every reply and then the server's
 * close_notify. Each test runs with the sink on the I/O thread and on an executor.
 */
final class SendPeersTest {
  private static final String INPUT = "a\nb\nc\n";
  private static final String REPLIES = "ok a\nok b\nok c\n";

  @RegisterExtension final ServerFixture fixture = new ServerFixture();
  private final ListenerEvents events = fixture.events();
  private final ExecutorService executor = Executors.newFixedThreadPool(2);
  private final AtomicReference<@Nullable LineServer> started = new AtomicReference<>();
  @TempDir Path dir;

  @AfterEach
  void shutDown() throws InterruptedException {
    executor.shutdownNow();
    assertThat(executor.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  /** What a peer printed and how it ended. */
  private record Run(int exitCode, String stdout, String stderr) {}

  private Run run(List<String> command, String input) throws IOException, InterruptedException {
    File out = dir.resolve("stdout-" + System.nanoTime()).toFile();
    File err = dir.resolve("stderr-" + System.nanoTime()).toFile();
    Process process = new ProcessBuilder(command).redirectOutput(out).redirectError(err).start();
    try (OutputStream stdin = process.getOutputStream()) {
      stdin.write(input.getBytes(StandardCharsets.UTF_8));
    }
    boolean exited = process.waitFor(Lines.TIMEOUT_SECONDS, TimeUnit.SECONDS);
    if (!exited) {
      process.destroyForcibly();
      process.waitFor(Lines.TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }
    Run run =
        new Run(
            exited ? process.exitValue() : -1,
            Files.readString(out.toPath(), StandardCharsets.UTF_8),
            Files.readString(err.toPath(), StandardCharsets.UTF_8));
    assertThat(exited).as("%s exited in time: %s", command, run).isTrue();
    return run;
  }

  /**
   * A server whose sink replies {@code "ok " + line} to each line. On an executor the sink first
   * waits until the server has read all of {@code input}: the replies are made after the peer's
   * half-close reached the server (or is about to).
   */
  private LineServer.Builder replying(boolean onExecutor, int inputBytes) {
    LineServer.Builder builder =
        fixture
            .builder()
            .connectionSink(
                (connection, line) -> {
                  LineServer server = started.get();
                  if (onExecutor
                      && (server == null || server.stats().bytesReceived() < inputBytes)) {
                    await()
                        .atMost(Duration.ofSeconds(10))
                        .until(
                            () ->
                                started.get() != null
                                    && started.get().stats().bytesReceived() >= inputBytes);
                  }
                  assertThat(connection.sendLine("ok " + line)).isEqualTo(SendResult.QUEUED);
                  if (line.equals("bye")) {
                    connection.close();
                  }
                });
    return onExecutor ? builder.sinkExecutor(executor) : builder;
  }

  private LineServer start(LineServer.Builder builder) throws IOException {
    LineServer server = fixture.start(builder);
    started.set(server);
    return server;
  }

  private void assertClosedInOrder(CloseReason reason) throws InterruptedException {
    events.closed.await(c -> c.reason() == reason);
    LineServerStats stats = started.get().stats();
    assertThat(stats.sendBytesDropped()).isZero();
    assertThat(stats.sinkFailures()).isZero();
  }

  @ParameterizedTest(name = "onExecutor={0}")
  @ValueSource(booleans = {false, true})
  void netcat_halfClosesAtOnce_readsEveryReplyInOrder(boolean onExecutor) throws Exception {
    String nc = Peers.require("nc", "netcat-openbsd");
    try (LineServer server = start(replying(onExecutor, INPUT.length()))) {
      assertEveryReplyInOrder(
          server, List.of(nc, "-N", "127.0.0.1", String.valueOf(server.port())));
    }
  }

  @ParameterizedTest(name = "onExecutor={0}")
  @ValueSource(booleans = {false, true})
  void socat_halfClosesAtOnce_readsEveryReplyInOrder(boolean onExecutor) throws Exception {
    String socat = Peers.require("socat", "socat");
    try (LineServer server = start(replying(onExecutor, INPUT.length()))) {
      // -t: after stdin's EOF socat waits this long for the server's end (0.5 s by default).
      assertEveryReplyInOrder(
          server, List.of(socat, "-t", "5", "-", "TCP:127.0.0.1:" + server.port()));
    }
  }

  @ParameterizedTest(name = "onExecutor={0}")
  @ValueSource(booleans = {false, true})
  void netcat_manyLinesInOneWrite_everyReplyArrives(boolean onExecutor) throws Exception {
    String nc = Peers.require("nc", "netcat-openbsd");
    StringBuilder input = new StringBuilder();
    StringBuilder replies = new StringBuilder();
    for (int i = 0; i < 5_000; i++) {
      input.append("line ").append(i).append('\n');
      replies.append("ok line ").append(i).append('\n');
    }
    try (LineServer server =
        start(replying(onExecutor, input.length()).maxSendQueueBytes(1 << 20))) {
      Run run =
          run(List.of(nc, "-N", "127.0.0.1", String.valueOf(server.port())), input.toString());
      assertThat(run.stdout()).as("nc's output").isEqualTo(replies.toString());
      assertClosedInOrder(CloseReason.PEER_EOF);
      assertThat(server.stats().bytesSent()).isEqualTo(replies.length());
    }
  }

  /** {@code client} sends INPUT and half-closes: it prints every reply in order, and exits 0. */
  private void assertEveryReplyInOrder(LineServer server, List<String> client) throws Exception {
    Run run = run(client, INPUT);
    assertThat(run.stdout()).as("%s", run).isEqualTo(REPLIES);
    assertThat(run.exitCode()).as("%s", run).isZero();
    assertClosedInOrder(CloseReason.PEER_EOF);
    assertThat(server.stats().bytesSent()).isEqualTo(REPLIES.length());
  }

  private static List<String> opensslClient(LineServer server) throws Exception {
    TestPki pki = TestPki.shared();
    return List.of(
        Peers.require("openssl", "openssl"),
        "s_client",
        "-connect",
        "127.0.0.1:" + server.port(),
        "-CAfile",
        pki.caPem().toString(),
        "-verify_return_error",
        "-tls1_3",
        "-quiet",
        "-ign_eof"); // reads on after its stdin ends, until the server's close_notify
  }

  /**
   * s_client cannot half-close TLS, so the last line asks the sink to close: its reply, then every
   * earlier one, then close_notify. An EOF without close_notify would make OpenSSL 3 print
   * "unexpected eof while reading" and exit 1.
   */
  @ParameterizedTest(name = "onExecutor={0}")
  @ValueSource(booleans = {false, true})
  void opensslSClient_tls13_readsEveryReplyThenCloseNotify(boolean onExecutor) throws Exception {
    String input = INPUT + "bye\n";
    try (LineServer server = start(replying(onExecutor, 0).tls(TestPki.shared().serverContext()))) {
      Run run = run(opensslClient(server), input);
      assertThat(run.stdout()).as("%s", run).isEqualTo(REPLIES + "ok bye\n");
      assertThat(run.stderr()).as("%s", run).doesNotContainIgnoringCase("error");
      assertThat(run.exitCode()).as("%s", run).isZero();
      assertClosedInOrder(CloseReason.APPLICATION_CLOSE);
    }
  }

  /** The same with the server closing: each s_client gets its replies, then close_notify. */
  @ParameterizedTest(name = "onExecutor={0}")
  @ValueSource(booleans = {false, true})
  void opensslSClient_tls13_serverClose_readsEveryReplyThenCloseNotify(boolean onExecutor)
      throws Exception {
    LineServer server = start(replying(onExecutor, 0).tls(TestPki.shared().serverContext()));
    List<String> command = opensslClient(server);
    File out = dir.resolve("s_client.out").toFile();
    File err = dir.resolve("s_client.err").toFile();
    Process process = new ProcessBuilder(command).redirectOutput(out).redirectError(err).start();
    try {
      OutputStream stdin = process.getOutputStream();
      stdin.write(INPUT.getBytes(StandardCharsets.UTF_8));
      stdin.flush(); // stdin stays open: the peer is quiet, not gone
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> Files.readString(out.toPath()).equals(REPLIES));
      server.close();
      assertThat(process.waitFor(Lines.TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
      String stderr = Files.readString(err.toPath());
      assertThat(Files.readString(out.toPath())).isEqualTo(REPLIES);
      assertThat(stderr).doesNotContainIgnoringCase("error");
      assertThat(process.exitValue()).as(stderr).isZero();
      assertClosedInOrder(CloseReason.SERVER_CLOSE);
    } finally {
      process.destroyForcibly();
      server.close();
    }
  }

  /**
   * socat over TLS closes its side with close_notify at stdin's EOF (a TLS 1.3 half-close) and
   * reads on: the replies still reach it, then the server's close_notify.
   */
  @ParameterizedTest(name = "onExecutor={0}")
  @ValueSource(booleans = {false, true})
  void socatOverTls_halfClosesWithCloseNotify_readsEveryReply(boolean onExecutor) throws Exception {
    String socat = Peers.require("socat", "socat");
    TestPki pki = TestPki.shared();
    try (LineServer server = start(replying(onExecutor, 0).tls(TestPki.shared().serverContext()))) {
      String address =
          "OPENSSL:127.0.0.1:" + server.port() + ",cafile=" + pki.caPem() + ",verify=1";
      List<String> command = new ArrayList<>(List.of(socat, "-t", "5", "-", address));
      Run run = run(command, INPUT);
      assertThat(run.stdout()).as("%s", run).isEqualTo(REPLIES);
      assertThat(run.exitCode()).as("%s", run).isZero();
      assertClosedInOrder(CloseReason.PEER_EOF);
    }
  }
}
