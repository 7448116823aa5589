package dev.lineserver.internal;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.lineserver.testing.TestPki;
import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class TlsCodecTest {
  private static final int MAX_RECORD = 16 * 1024;
  private static final long TIMEOUT_SECONDS = 10;

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void unwrap_handshakeThenRecords_deliversExactBytes(String protocol) throws Exception {
    TlsLink link = link(protocol, TlsLink.WHOLE);
    link.handshake();
    byte[] line = "hello, server\n".getBytes(US_ASCII);
    byte[] fullRecord = pattern(MAX_RECORD, 1);
    byte[] manyRecords = pattern(5 * MAX_RECORD + 123, 2);

    link.send(line, fullRecord, manyRecords);
    link.pump();

    assertThat(link.serverReceived()).isEqualTo(concat(line, fullRecord, manyRecords));
    assertThat(link.stage.handshakeDone()).isTrue();
    assertThat(link.stage.session().getProtocol()).isEqualTo(protocol);
    assertThat(link.stage.hasPartialRecord()).isFalse();
    assertThat(link.stage.outbound().capacity()).isZero();
    assertThat(link.clientFailure()).isNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void unwrap_clientBytesSplitAtEveryPosition_deliversExactBytes(String protocol) throws Exception {
    byte[][] records = {
      "first\n".getBytes(US_ASCII), "second\r\n".getBytes(US_ASCII), pattern(300, 3)
    };
    byte[] expected = concat(records);
    SSLContext server = TestPki.shared().serverContext();
    SSLContext client = clientContext(null);
    long[] length = {0};
    TlsLink measure =
        freshLink(
            server,
            client,
            protocol,
            (offset, available) -> {
              length[0] = offset + available;
              return available;
            });
    measure.send(records);
    measure.pump();
    assertThat(measure.serverReceived()).isEqualTo(expected);

    for (long at = 1; at < length[0]; at++) {
      TlsLink link = freshLink(server, client, protocol, TlsLink.splitAt(at));
      link.send(records);
      link.pump();

      assertThat(link.serverReceived()).as("split at %d of %d", at, length[0]).isEqualTo(expected);
      assertThat(link.stage.handshakeDone()).as("split at %d", at).isTrue();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void unwrap_oneByteAtATime_deliversExactBytes(String protocol) throws Exception {
    byte[][] records = {"one\n".getBytes(US_ASCII), pattern(MAX_RECORD, 4), pattern(2000, 5)};
    TlsLink link = link(protocol, (offset, available) -> 1);
    link.send(records);
    link.pump();

    assertThat(link.serverReceived()).isEqualTo(concat(records));
    assertThat(link.stage.hasPartialRecord()).isFalse();
  }

  @Test
  void unwrap_randomChunksAndSlowWrites_deliversExactBytes() throws Exception {
    long seed = 0x7157_A6E5L;
    SplittableRandom random = new SplittableRandom(seed);
    int[] maxChunks = {5, 100, 1500, 20_000, 100_000};
    for (int round = 0; round < 40; round++) {
      String protocol = random.nextBoolean() ? "TLSv1.3" : "TLSv1.2";
      int maxChunk = maxChunks[random.nextInt(maxChunks.length)];
      TlsLink link = link(protocol, TlsLink.random(random.split(), maxChunk));
      link.writeLimit(1 + random.nextInt(2000));
      List<byte[]> records = new ArrayList<>();
      for (int i = random.nextInt(1, 12); i > 0; i--) {
        int size =
            random.nextBoolean() ? random.nextInt(1, 200) : random.nextInt(1, 3 * MAX_RECORD);
        records.add(pattern(size, random.nextInt()));
      }
      link.send(records.toArray(new byte[0][]));
      link.pump();

      assertThat(link.serverReceived())
          .as("seed %d round %d, %s, chunks up to %d", seed, round, protocol, maxChunk)
          .isEqualTo(concat(records.toArray(new byte[0][])));
      assertThat(link.stage.hasPartialRecord()).isFalse();
    }
  }

  @Test
  void unwrap_chunksEndingMidRecord_holdOnlyTheIncompleteRecord() throws Exception {
    TlsLink link = link("TLSv1.3", TlsLink.WHOLE);
    link.handshake();
    byte[][] records = {pattern(1000, 6), pattern(10, 7), pattern(500, 8)};
    byte[][] wire = new byte[records.length][];
    for (int i = 0; i < records.length; i++) {
      link.send(records[i]);
      wire[i] = link.takeClientBytes();
    }
    byte[] stream = concat(wire);
    int firstCut = 500;
    int secondCut = wire[0].length + wire[1].length + 100;
    List<byte[]> received = new ArrayList<>();
    TlsCodec.Plaintext out = plaintext -> received.add(bytes(plaintext));

    link.stage.unwrap(ByteBuffer.wrap(stream, 0, firstCut), out);
    assertThat(received).isEmpty();
    assertThat(link.stage.hasPartialRecord()).isTrue();

    link.stage.unwrap(ByteBuffer.wrap(stream, firstCut, secondCut - firstCut), out);
    assertThat(received).containsExactly(records[0], records[1]);
    assertThat(link.stage.hasPartialRecord()).isTrue();

    link.stage.unwrap(ByteBuffer.wrap(stream, secondCut, stream.length - secondCut), out);
    assertThat(received).containsExactly(records);
    assertThat(link.stage.hasPartialRecord()).isFalse();
  }

  /** The JDK reads the key limits once per JVM, so a child JVM sets them; see its class. */
  @Test
  void unwrap_keyUpdatesMidStream_deliversExactBytes(@TempDir Path dir) throws Exception {
    TestPki pki = TestPki.shared();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String classPath = location(TlsCodec.class) + File.pathSeparator + location(TlsLink.class);
    Path output = dir.resolve("output.txt");
    Process child =
        new ProcessBuilder(
                java, "-cp", classPath, TlsKeyUpdateProgram.class.getName(), pki.dir().toString())
            .redirectErrorStream(true)
            .redirectOutput(output.toFile())
            .start();
    boolean exited = child.waitFor(60, TimeUnit.SECONDS);
    if (!exited) {
      child.destroyForcibly();
    }

    String printed = Files.readString(output);
    assertThat(exited).as(printed).isTrue();
    assertThat(child.exitValue()).as(printed).isZero();
    assertThat(printed).contains("key updates OK");
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void clientAuthNeeded_trustedCertificate_givesPeerSubject(String protocol) throws Exception {
    TlsLink link = clientAuthLink(protocol, TestPki.CLIENT);
    link.handshake();

    X509Certificate peer = (X509Certificate) link.stage.session().getPeerCertificates()[0];
    assertThat(peer.getSubjectX500Principal().getName()).isEqualTo("CN=trusted client");
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void clientAuthNeeded_noCertificate_failsAndTellsTheClient(String protocol) throws Exception {
    TlsLink link = clientAuthLink(protocol, null);

    assertThatThrownBy(link::pump).isInstanceOf(SSLHandshakeException.class);
    assertAlertReachesClient(link);
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void clientAuthNeeded_untrustedCertificate_failsAndTellsTheClient(String protocol)
      throws Exception {
    TlsLink link = clientAuthLink(protocol, TestPki.UNTRUSTED_CLIENT);

    assertThatThrownBy(link::pump).isInstanceOf(SSLHandshakeException.class);
    assertAlertReachesClient(link);
  }

  @Test
  void clientAuthNeeded_expiredCertificate_fails() throws Exception {
    TlsLink link = clientAuthLink("TLSv1.3", TestPki.EXPIRED_CLIENT);

    assertThatThrownBy(link::pump)
        .isInstanceOf(SSLHandshakeException.class)
        .hasRootCauseInstanceOf(CertificateExpiredException.class);
    assertAlertReachesClient(link);
  }

  @Test
  void clientAuthWanted_noCertificate_completesWithoutPeer() throws Exception {
    SSLEngine server = TlsLink.serverEngine(TestPki.shared().serverContext(), "TLSv1.3");
    server.setWantClientAuth(true);
    TlsLink link =
        new TlsLink(server, TlsLink.clientEngine(clientContext(null), "TLSv1.3"), TlsLink.WHOLE);
    link.handshake();

    assertThatThrownBy(() -> link.stage.session().getPeerCertificates())
        .isInstanceOf(SSLPeerUnverifiedException.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void unwrap_clientRejectsExpiredServer_throwsTheClientsAlert(String protocol) throws Exception {
    SSLContext expired = TestPki.shared().context(TestPki.EXPIRED_SERVER, true);
    TlsLink link =
        new TlsLink(
            TlsLink.serverEngine(expired, protocol),
            TlsLink.clientEngine(clientContext(null), protocol),
            TlsLink.WHOLE);

    assertThatThrownBy(link::pump)
        .isInstanceOf(SSLException.class)
        .hasMessageContaining("Received fatal alert");
    assertThat(link.clientFailure()).hasRootCauseInstanceOf(CertificateExpiredException.class);
  }

  @Test
  void unwrap_noCommonProtocol_throwsAndQueuesTheAlert() throws Exception {
    TlsLink link =
        new TlsLink(
            TlsLink.serverEngine(TestPki.shared().serverContext(), "TLSv1.3"),
            TlsLink.clientEngine(clientContext(null), "TLSv1.2"),
            TlsLink.WHOLE);

    assertThatThrownBy(link::pump).isInstanceOf(SSLHandshakeException.class);
    assertAlertReachesClient(link);
  }

  @ParameterizedTest
  @ValueSource(strings = {"hello\n", "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", "h"})
  void unwrap_plaintext_throwsAtOnce(String text) throws Exception {
    TlsCodec stage = new TlsCodec(serverEngine("TLSv1.3"), TlsCodec.newPlaintextBuffer());
    List<ByteBuffer> received = new ArrayList<>();

    assertThatThrownBy(() -> stage.unwrap(ByteBuffer.wrap(text.getBytes(US_ASCII)), received::add))
        .isInstanceOf(SSLException.class)
        .hasMessageContaining("not a TLS handshake");
    assertThat(received).isEmpty();
  }

  @Test
  void unwrap_recordHeaderOverTheLimit_throwsAtOnce() throws Exception {
    TlsCodec stage = new TlsCodec(serverEngine("TLSv1.3"), TlsCodec.newPlaintextBuffer());
    byte[] header = {22, 3, 1, (byte) 0xFF, (byte) 0xFF};

    assertThatThrownBy(() -> stage.unwrap(ByteBuffer.wrap(header), plaintext -> {}))
        .isInstanceOf(SSLException.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void unwrap_closeNotifyAfterData_deliversDataThenInboundDone(String protocol) throws Exception {
    TlsLink link = link(protocol, TlsLink.WHOLE);
    link.handshake();
    byte[] data = pattern(3000, 7);
    link.send(data);
    byte[] records = link.takeClientBytes();
    link.client.closeOutbound();
    byte[] wire = concat(records, link.takeClientBytes(), "trailing junk".getBytes(US_ASCII));
    List<byte[]> received = new ArrayList<>();

    ByteBuffer in = ByteBuffer.wrap(wire);
    link.stage.unwrap(in, plaintext -> received.add(bytes(plaintext)));

    assertThat(concat(received.toArray(new byte[0][]))).isEqualTo(data);
    assertThat(link.stage.inboundDone()).isTrue();
    assertThat(in.hasRemaining()).isFalse();
    assertThat(link.stage.hasPartialRecord()).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void closeOutbound_queuesCloseNotifyTheClientSees(String protocol) throws Exception {
    TlsLink link = link(protocol, TlsLink.WHOLE);
    link.handshake();
    link.writeLimit(3);

    link.stage.closeOutbound();
    int queued = link.stage.outbound().remaining();
    link.stage.closeOutbound();

    assertThat(queued).isPositive();
    assertThat(link.stage.outbound().remaining()).isEqualTo(queued);
    link.pump();
    assertThat(link.client.isInboundDone()).isTrue();
    assertThat(link.clientFailure()).isNull();
    assertThat(link.stage.outbound().hasRemaining()).isFalse();
  }

  @Test
  void closeOutbound_insideTheReceiver_leavesItsPlaintextIntact() throws Exception {
    TlsLink link = link("TLSv1.3", TlsLink.WHOLE);
    link.handshake();
    link.closeWhileReceiving();
    byte[] data = pattern(3 * MAX_RECORD, 8);

    link.send(data);
    link.pump();

    assertThat(link.serverReceived()).isEqualTo(data);
    assertThat(link.client.isInboundDone()).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void handshake_flightOverMaxBuffer_reachesTheClient(String protocol) throws Exception {
    TlsLink link = bigChainLink(protocol);
    link.writeLimit(1000);
    link.handshake();
    byte[] data = pattern(3 * MAX_RECORD, 9);

    link.send(data);
    link.pump();

    assertThat(link.takenFromStage()).isGreaterThan(BIG_CHAIN_BYTES);
    assertThat(link.serverReceived()).isEqualTo(data);
    assertThat(link.clientFailure()).isNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void handshake_clientReadsNothing_stageHoldsItsFlightWithinTheBound(String protocol)
      throws Exception {
    TlsLink link = bigChainLink(protocol);
    link.writeLimit(0);
    link.pump();

    int unsent = link.stage.outbound().remaining();
    assertThat(unsent).isGreaterThan(BIG_CHAIN_BYTES).isLessThanOrEqualTo(TlsCodec.MAX_FLIGHT);
    assertThat(link.stage.handshakeDone()).isFalse();

    link.writeLimit(Integer.MAX_VALUE);
    link.handshake();
    assertThat(link.takenFromStage()).isGreaterThanOrEqualTo(unsent);
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void tasks_onAnotherThread_doTheKeyWork_andTheHandshakeCompletes(String protocol)
      throws Exception {
    List<String> keyThreads = new CopyOnWriteArrayList<>();
    SSLContext server =
        TestPki.shared().serverContext(() -> keyThreads.add(Thread.currentThread().getName()));
    TlsLink link =
        new TlsLink(
            TlsLink.serverEngine(server, protocol),
            TlsLink.clientEngine(clientContext(null), protocol),
            TlsLink.WHOLE);
    ExecutorService taskThread =
        Executors.newSingleThreadExecutor(task -> new Thread(task, "test-tls-task"));
    int[] batches = {0};
    link.taskRunner(
        tasks -> {
          batches[0]++;
          join(taskThread.submit(tasks));
        });
    try {
      link.handshake();
      byte[] data = pattern(2 * MAX_RECORD, 10);
      link.send(data);
      link.pump();

      assertThat(link.serverReceived()).isEqualTo(data);
      assertThat(batches[0]).isEqualTo(protocol.equals("TLSv1.3") ? 1 : 2);
      assertThat(keyThreads).isNotEmpty().containsOnly("test-tls-task");
    } finally {
      taskThread.shutdownNow();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void unwrap_recordsBehindATaskRecord_areHeldAndDeliveredAfterIt(String protocol)
      throws Exception {
    TlsLink link = clientAuthLink(protocol, TestPki.CLIENT);
    link.deferTasks();
    byte[] data = pattern(5 * MAX_RECORD, 11);
    link.send(data);
    int batches = 0;
    for (link.pump(); link.stage.awaitingTasks(); link.pump()) {
      assertThat(link.stage.outbound().hasRemaining()).isFalse();
      assertThat(link.stage.inboundDone()).isFalse();
      Runnable tasks = link.stage.takeTasks();
      assertThat(tasks).isNotNull();
      assertThat(link.stage.takeTasks()).isNull();
      tasks.run();
      link.tasksDone(null);
      batches++;
    }

    assertThat(batches).isEqualTo(2); // the ClientHello, then the client's certificate
    assertThat(link.serverReceived()).isEqualTo(data);
    assertThat(link.stage.handshakeDone()).isTrue();
    assertThat(link.stage.hasPartialRecord()).isFalse();
    assertThat(link.clientFailure()).isNull();
  }

  /** The engine is locked while its task runs: a stage that touched it would block here. */
  @Test
  void stage_whileItsTaskRuns_touchesNoEngine() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    SSLContext server =
        TestPki.shared()
            .serverContext(
                () -> {
                  entered.countDown();
                  awaitQuietly(release);
                });
    TlsLink link =
        new TlsLink(
            TlsLink.serverEngine(server, "TLSv1.3"),
            TlsLink.clientEngine(clientContext(null), "TLSv1.3"),
            TlsLink.WHOLE);
    link.deferTasks();
    link.pump();
    Runnable tasks = link.stage.takeTasks();
    assertThat(tasks).isNotNull();
    Thread taskThread = new Thread(tasks, "test-tls-task");
    taskThread.start();
    try {
      assertThat(entered.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
      byte[] junk = pattern(1000, 12); // one application-data record of garbage
      System.arraycopy(new byte[] {23, 3, 3, (byte) (995 >> 8), (byte) 995}, 0, junk, 0, 5);
      assertTimeoutPreemptively(
          Duration.ofSeconds(TIMEOUT_SECONDS),
          () -> {
            link.stage.unwrap(ByteBuffer.wrap(junk), plaintext -> {});
            link.stage.unwrap(ByteBuffer.allocate(0), plaintext -> {});
            link.stage.closeOutbound();
            assertThat(link.stage.outbound().hasRemaining()).isFalse();
            assertThat(link.stage.inboundDone()).isFalse();
            assertThat(link.stage.hasPartialRecord()).isFalse();
            assertThat(link.stage.handshakeDone()).isFalse();
            assertThat(link.stage.awaitingTasks()).isTrue();
          });
    } finally {
      release.countDown();
      taskThread.join();
    }

    // The junk held meanwhile is unwrapped after the task, behind the server's flight.
    assertThatThrownBy(() -> link.tasksDone(null)).isInstanceOf(SSLException.class);
    assertThat(link.stage.outbound().hasRemaining()).isTrue();
  }

  @Test
  void unwrap_afterAFailedTask_throwsItsCause_andTouchesNoEngine() throws Exception {
    TlsLink link = link("TLSv1.3", TlsLink.WHOLE);
    link.deferTasks();
    link.pump();
    assertThat(link.stage.takeTasks()).isNotNull();
    AssertionError thrown = new AssertionError("a key manager failed");

    assertThatThrownBy(() -> link.tasksDone(thrown))
        .isInstanceOf(SSLException.class)
        .hasMessageContaining("TLS handshake task failed")
        .hasCause(thrown);
    assertThat(link.stage.outbound().hasRemaining()).isFalse();
    assertThat(link.stage.awaitingTasks()).isFalse();
  }

  @Test
  void unwrap_whileTasksWait_holdsAtMostMaxHeld() throws Exception {
    TlsLink link = link("TLSv1.3", TlsLink.WHOLE);
    link.deferTasks();
    link.pump();
    assertThat(link.stage.takeTasks()).isNotNull();
    link.stage.unwrap(ByteBuffer.wrap(new byte[TlsCodec.MAX_HELD - 10]), plaintext -> {});

    assertThatThrownBy(() -> link.stage.unwrap(ByteBuffer.wrap(new byte[11]), plaintext -> {}))
        .isInstanceOf(SSLException.class)
        .hasMessage(
            "TLS input while the handshake computes: "
                + (TlsCodec.MAX_HELD + 1)
                + " bytes (limit: "
                + TlsCodec.MAX_HELD
                + ")");
  }

  @Test
  void takeTasks_abandonedBeforeTheyRun_doNothing() throws Exception {
    AtomicInteger keyChoices = new AtomicInteger();
    SSLContext server = TestPki.shared().serverContext(keyChoices::incrementAndGet);
    TlsLink link =
        new TlsLink(
            TlsLink.serverEngine(server, "TLSv1.3"),
            TlsLink.clientEngine(clientContext(null), "TLSv1.3"),
            TlsLink.WHOLE);
    link.deferTasks();
    link.pump();
    Runnable tasks = link.stage.takeTasks();
    assertThat(tasks).isNotNull();

    link.stage.abandon();
    tasks.run();

    assertThat(keyChoices).hasValue(0);
  }

  @Test
  void tasksDone_withoutTakenTasks_isAnError() throws Exception {
    TlsLink link = link("TLSv1.3", TlsLink.WHOLE);
    link.deferTasks();
    link.pump();

    assertThatThrownBy(() -> link.stage.tasksDone(null))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("tasksDone: WAITING (expected: WAITING, taken)");
  }

  @Test
  void new_smallPlaintextBuffer_isRejected() throws Exception {
    SSLEngine engine = serverEngine("TLSv1.3");
    ByteBuffer small = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());

    assertThatThrownBy(() -> new TlsCodec(engine, small))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("plaintextBuffer");
  }

  @ParameterizedTest
  @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
  void wrap_repliesAfterTheHandshake_reachTheClientExactly_withinTheBound(String protocol)
      throws Exception {
    TlsLink link =
        freshLink(TestPki.shared().serverContext(), clientContext(null), protocol, TlsLink.WHOLE);
    link.writeLimit(1000); // a slow socket: the unsent bytes pile up
    link.handshake();
    byte[] replies = pattern(200_000, 7);
    ByteBuffer src = ByteBuffer.wrap(replies);
    for (int round = 0; src.hasRemaining(); round++) {
      assertThat(round).as("rounds").isLessThan(100_000);
      link.stage.wrap(src);
      assertThat(link.stage.outbound().remaining()).isLessThanOrEqualTo(TlsCodec.MAX_BUFFER);
      link.feedClient();
    }
    link.pump();
    assertThat(link.clientReceived()).isEqualTo(replies);
    assertThat(link.clientFailure()).isNull();
  }

  @Test
  void wrap_beforeTheHandshakeIsThrough_takesNothing() throws Exception {
    TlsLink link =
        freshLink(TestPki.shared().serverContext(), clientContext(null), "TLSv1.3", TlsLink.WHOLE);
    ByteBuffer src = ByteBuffer.wrap("early\n".getBytes(US_ASCII));
    assertThat(link.stage.wrap(src)).isZero();
    assertThat(src.remaining()).isEqualTo(6);
    link.handshake();
    assertThat(link.stage.wrap(src)).isEqualTo(6);
    link.pump();
    assertThat(new String(link.clientReceived(), US_ASCII)).isEqualTo("early\n");
  }

  @Test
  void wrap_afterCloseOutbound_takesNothing_andCloseNotifyIsLast() throws Exception {
    TlsLink link =
        freshLink(TestPki.shared().serverContext(), clientContext(null), "TLSv1.3", TlsLink.WHOLE);
    link.handshake();
    link.stage.wrap(ByteBuffer.wrap("last\n".getBytes(US_ASCII)));
    link.stage.closeOutbound();
    assertThat(link.stage.wrap(ByteBuffer.wrap("never\n".getBytes(US_ASCII)))).isZero();
    link.pump();
    assertThat(new String(link.clientReceived(), US_ASCII)).isEqualTo("last\n");
    assertThat(link.client.isInboundDone()).isTrue(); // the close_notify came after the reply
  }

  @Test
  void wrap_whileTheClientSendsLines_bothWaysArriveInOrder() throws Exception {
    TlsLink link =
        freshLink(TestPki.shared().serverContext(), clientContext(null), "TLSv1.3", TlsLink.WHOLE);
    link.handshake();
    StringBuilder sent = new StringBuilder();
    StringBuilder replied = new StringBuilder();
    for (int i = 0; i < 200; i++) {
      String line = "line " + i + "\n";
      String reply = "ack " + i + "\n";
      sent.append(line);
      replied.append(reply);
      link.send(line.getBytes(US_ASCII));
      ByteBuffer src = ByteBuffer.wrap(reply.getBytes(US_ASCII));
      link.stage.wrap(src);
      assertThat(src.hasRemaining()).isFalse();
      link.pump();
    }
    assertThat(new String(link.serverReceived(), US_ASCII)).isEqualTo(sent.toString());
    assertThat(new String(link.clientReceived(), US_ASCII)).isEqualTo(replied.toString());
  }

  /** A link whose client has no peer host, so never resumes: each handshake is a full one. */
  private static TlsLink freshLink(
      SSLContext server, SSLContext client, String protocol, TlsLink.Chunker chunker)
      throws SSLException {
    SSLEngine clientEngine = client.createSSLEngine();
    clientEngine.setUseClientMode(true);
    clientEngine.setEnabledProtocols(new String[] {protocol});
    return new TlsLink(TlsLink.serverEngine(server, protocol), clientEngine, chunker);
  }

  private static void assertAlertReachesClient(TlsLink link) {
    assertThat(link.stage.outbound().hasRemaining()).isTrue();
    link.feedClient();
    assertThat(link.clientFailure()).hasMessageContaining("Received fatal alert");
  }

  /** The DER bytes of {@link TestPki#BIG_SERVER}'s certificate, at the least. */
  private static final int BIG_CHAIN_BYTES = 47 * 1024;

  private static TlsLink bigChainLink(String protocol)
      throws GeneralSecurityException, IOException {
    SSLContext big = TestPki.shared().context(TestPki.BIG_SERVER, true);
    return new TlsLink(
        TlsLink.serverEngine(big, protocol),
        TlsLink.clientEngine(clientContext(null), protocol),
        TlsLink.WHOLE);
  }

  private static void join(Future<?> task) {
    try {
      task.get();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      if (!latch.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        throw new IllegalStateException("not released");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static TlsLink link(String protocol, TlsLink.Chunker chunker)
      throws GeneralSecurityException, IOException {
    return new TlsLink(
        serverEngine(protocol), TlsLink.clientEngine(clientContext(null), protocol), chunker);
  }

  private static TlsLink clientAuthLink(String protocol, @Nullable String clientName)
      throws GeneralSecurityException, IOException {
    SSLEngine server = serverEngine(protocol);
    server.setNeedClientAuth(true);
    return new TlsLink(
        server, TlsLink.clientEngine(clientContext(clientName), protocol), TlsLink.WHOLE);
  }

  private static SSLEngine serverEngine(String protocol)
      throws GeneralSecurityException, IOException {
    return TlsLink.serverEngine(TestPki.shared().serverContext(), protocol);
  }

  /** A fresh context each time, so that no client resumes an earlier session. */
  private static SSLContext clientContext(@Nullable String name)
      throws GeneralSecurityException, IOException {
    return TestPki.shared().clientContext(name);
  }

  private static byte[] pattern(int length, int salt) {
    byte[] bytes = new byte[length];
    new SplittableRandom(salt).nextBytes(bytes);
    return bytes;
  }

  private static byte[] concat(byte[]... parts) {
    byte[] joined = new byte[Arrays.stream(parts).mapToInt(part -> part.length).sum()];
    int at = 0;
    for (byte[] part : parts) {
      System.arraycopy(part, 0, joined, at, part.length);
      at += part.length;
    }
    return joined;
  }

  private static byte[] bytes(ByteBuffer buffer) {
    byte[] bytes = new byte[buffer.remaining()];
    buffer.get(bytes);
    return bytes;
  }

  private static String location(Class<?> type) throws URISyntaxException {
    return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
  }
}
