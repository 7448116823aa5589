package dev.lineserver;

import static dev.lineserver.testing.ServerFixture.TIMEOUT_MILLIS;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lineserver.testing.Client;
import dev.lineserver.testing.ExplodingCharset;
import dev.lineserver.testing.Lines;
import dev.lineserver.testing.ListenerEvents;
import dev.lineserver.testing.ListenerEvents.Closed;
import dev.lineserver.testing.ListenerEvents.SinkFailed;
import dev.lineserver.testing.NumberedLines;
import dev.lineserver.testing.ServerFixture;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

final class LineServerTest {
  @RegisterExtension final ServerFixture fixture = new ServerFixture();
  private final Lines lines = fixture.lines();
  private final ListenerEvents events = fixture.events();

  private LineServer.Builder server() {
    return fixture.builder().ioThreads(2).sink(lines);
  }

  @Test
  void lines_everyFramingRowOverASocket_deliveredAsTheContractSays() throws Exception {
    try (LineServer server = fixture.start(server());
        Client client = new Client(server)) {
      client.send("a\nb\r\nc\rd\n\n").send(new byte[] {'x', (byte) 0xC3, '\n'}).send("tail");
      client.shutdownOutput();

      assertThat(lines.take(6)).containsExactly("a", "b", "c\rd", "", "x\uFFFD", "tail");
      events.closed.await(closed -> closed.reason() == CloseReason.PEER_EOF);
    }
  }

  @Test
  void lines_sentOneByteAtATime_sameAsSentWhole() throws Exception {
    byte[] stream = "é€😀 one\r\ntwo\n".getBytes(UTF_8);
    try (LineServer server = fixture.start(server());
        Client client = new Client(server)) {
      for (byte b : stream) {
        client.send(new byte[] {b});
      }
      assertThat(lines.take(2)).containsExactly("é€😀 one", "two");
    }
  }

  @Test
  void delimiter_nul_endsLines_crIsData_andTheTailArrivesAtEof() throws Exception {
    try (LineServer server = fixture.start(server().delimiter(0).maxLineLength(4));
        Client client = new Client(server)) {
      client.send("{\"a\":1}\0".getBytes(UTF_8)); // too long: 7 bytes
      client.send("ab\r\0\0c\nd\0tail".getBytes(UTF_8));
      client.shutdownOutput();

      assertThat(lines.take(4)).containsExactly("ab\r", "", "c\nd", "tail");
      events.tooLong.await(tooLong -> tooLong.length() == 7L);
    }
  }

  @Test
  void unixSocket_servesLines_hasNoIpAddress_andItsFileIsRemovedOnClose(@TempDir Path dir)
      throws Exception {
    Path path = dir.resolve("ingest.sock");
    Closed closed;
    try (LineServer server = fixture.start(server().unixSocket(path))) {
      assertThat(server.port()).isEqualTo(-1);
      assertThat(server.localAddress()).isEqualTo(UnixDomainSocketAddress.of(path));
      try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
        client.write(ByteBuffer.wrap("one\r\ntwo\nthe tail".getBytes(UTF_8)));
        client.shutdownOutput();
        assertThat(lines.take(3)).containsExactly("one", "two", "the tail");
        closed = events.closed.await(c -> c.reason() == CloseReason.PEER_EOF);
      }
      assertThat(closed.connection().remoteAddress()).isInstanceOf(UnixDomainSocketAddress.class);
      assertThat(path).exists();
    }
    assertThat(path).doesNotExist();
  }

  @Test
  void unixSocket_replacesAStaleSocketFile_butNotALiveOneOrAnyOtherFile(@TempDir Path dir)
      throws Exception {
    Path stale = dir.resolve("stale.sock");
    try (ServerSocketChannel crashed = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      crashed.bind(UnixDomainSocketAddress.of(stale)); // closed without removing its file
    }
    assertThat(stale).exists();
    try (LineServer server = fixture.start(server().unixSocket(stale));
        SocketChannel client = SocketChannel.open(server.localAddress())) {
      client.write(ByteBuffer.wrap("served\n".getBytes(UTF_8)));
      assertThat(lines.take()).isEqualTo("served");

      assertThatThrownBy(() -> server().unixSocket(stale).start())
          .isInstanceOf(BindException.class)
          .hasMessageContaining(stale.toString());
    }
    Path regular = Files.writeString(dir.resolve("data.txt"), "keep me");
    assertThatThrownBy(() -> server().unixSocket(regular).start())
        .isInstanceOf(BindException.class)
        .hasMessageContaining(regular.toString());
    assertThat(regular).hasContent("keep me");
  }

  @Test
  void charset_latin1_decodesWithIt() throws Exception {
    try (LineServer server = fixture.start(server().charset(StandardCharsets.ISO_8859_1));
        Client client = new Client(server)) {
      client.send(new byte[] {'c', 'a', 'f', (byte) 0xE9, '\n'});
      assertThat(lines.take()).isEqualTo("café");
    }
  }

  @Test
  void connections_manyConcurrent_eachKeepsItsOrder() throws Exception {
    int connections = 50;
    int perConnection = 2_000;
    Map<Long, List<String>> byConnection = new ConcurrentHashMap<>();
    CountDownLatch all = new CountDownLatch(connections * perConnection);
    ConnectionLineSink sink =
        (connection, line) -> {
          byConnection.computeIfAbsent(connection.id(), id -> new ArrayList<>()).add(line);
          all.countDown();
        };
    try (LineServer server =
        fixture.start(LineServer.builder().port(0).ioThreads(2).connectionSink(sink))) {
      NumberedLines.send(server, connections, perConnection);
      assertThat(all.await(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)).isTrue();
    }
    NumberedLines.assertInOrder(byConnection.values(), connections, perConnection);
  }

  @Test
  void connectionSink_seesTheClientsAddressAndDistinctIds() throws Exception {
    List<ConnectionInfo> seen = new ArrayList<>();
    CountDownLatch two = new CountDownLatch(2);
    ConnectionLineSink sink =
        (connection, line) -> {
          synchronized (seen) {
            seen.add(connection);
          }
          two.countDown();
        };
    try (LineServer server = fixture.start(LineServer.builder().port(0).connectionSink(sink));
        Client first = new Client(server);
        Client second = new Client(server)) {
      first.send("1\n");
      assertThat(two.await(0, TimeUnit.MILLISECONDS)).isFalse();
      second.send("2\n");
      assertThat(two.await(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)).isTrue();
      synchronized (seen) {
        assertThat(seen)
            .extracting(ConnectionInfo::remoteAddress)
            .containsExactlyInAnyOrder(
                first.socket.getLocalSocketAddress(), second.socket.getLocalSocketAddress());
        assertThat(seen.get(0).id()).isNotEqualTo(seen.get(1).id());
        assertThat(seen.get(0).localAddress())
            .isEqualTo(new InetSocketAddress(first.socket.getInetAddress(), server.port()));
      }
    }
  }

  @Test
  void sinkFailure_losesOnlyThatLine_andTheConnectionGoesOn() throws Exception {
    LineSink failing =
        line -> {
          if (line.startsWith("bad")) {
            throw new IllegalArgumentException("rejected " + line);
          }
          lines.accept(line);
        };
    try (LineServer server = fixture.start(fixture.builder().sink(failing));
        Client client = new Client(server)) {
      client.send("one\nbad1\ntwo\nbad2\nthree\n");
      assertThat(lines.take(3)).containsExactly("one", "two", "three");
      client.send("four\n");
      assertThat(lines.take()).isEqualTo("four");

      SinkFailed failed = events.sinkFailed.await(f -> "bad1".equals(f.line()));
      assertThat(failed.error()).hasMessage("rejected bad1");
      assertThat(events.sinkFailed.matching(f -> "bad2".equals(f.line()))).hasSize(1);
      assertThat(events.restartLimit.all()).isEmpty();
    }
  }

  @Test
  void restartIntensity_exceeded_closesOnlyTheOffendingConnection() throws Exception {
    LineSink failing =
        line -> {
          if (line.equals("bad")) {
            throw new IllegalStateException("bad line");
          }
          lines.accept(line);
        };
    try (LineServer server =
            fixture.start(
                fixture.builder().sink(failing).restartIntensity(2, Duration.ofMinutes(1)));
        Client offender = new Client(server);
        Client bystander = new Client(server)) {
      bystander.send("before\n");
      assertThat(lines.take()).isEqualTo("before");

      offender.send("bad\nbad\nok\nbad\nnever delivered\n");
      assertThat(offender.awaitServerClose()).isTrue();
      assertThat(lines.take()).isEqualTo("ok");

      events.restartLimit.await(
          limit -> limit.maxRestarts() == 2 && Duration.ofMinutes(1).equals(limit.period()));
      events.closed.await(closed -> closed.reason() == CloseReason.RESTART_LIMIT);

      bystander.send("after\n");
      assertThat(lines.take()).isEqualTo("after");
      assertThat(lines.remaining()).isEmpty();
    }
  }

  @Test
  void decodeFailure_isAFailureOfThatLineOnly() throws Exception {
    try (LineServer server = fixture.start(server().charset(new ExplodingCharset()));
        Client client = new Client(server)) {
      client.send("fine\nboom!\nafter\n");
      assertThat(lines.take(2)).containsExactly("fine", "after");
      events.sinkFailed.await(failed -> failed.line() == null);
    }
  }

  @Test
  void tooLongLine_discardedAndReported_connectionStaysOpen() throws Exception {
    try (LineServer server = fixture.start(server().maxLineLength(10));
        Client client = new Client(server)) {
      client.send("0123456789\n"); // exactly the limit
      client.send("0123456789A\r\n"); // one over
      client.send("x".repeat(100_000)).send("\nnext\n");
      assertThat(lines.take(2)).containsExactly("0123456789", "next");
      events.tooLong.await(tooLong -> tooLong.length() == 11L);
      events.tooLong.await(tooLong -> tooLong.length() == 100_000L);
      client.send("still open\n".substring(0, 5) + "\n");
      assertThat(lines.take()).isEqualTo("still");
    }
  }

  @Test
  void peerReset_midLine_closesQuietlyAndServesOthers() throws Exception {
    try (LineServer server = fixture.start(server());
        Client other = new Client(server)) {
      Client resetting = new Client(server);
      resetting.send("whole\npartial");
      assertThat(lines.take()).isEqualTo("whole");
      resetting.reset();
      events.closed.await(closed -> closed.reason() == CloseReason.PEER_RESET);
      other.send("still served\n");
      assertThat(lines.take()).isEqualTo("still served");
      assertThat(lines.remaining()).isEmpty();
      assertThat(events.sinkFailed.all()).isEmpty();
    }
  }

  @Test
  void sinkError_isNotSwallowed_theIoThreadDiesAndCloseStillCleansUp() throws Exception {
    LineSink erring =
        line -> {
          if (line.equals("fatal")) {
            throw new ServiceConfigurationError("a sink's Error");
          }
          lines.accept(line);
        };
    LineServer server = fixture.start(fixture.builder().ioThreads(1).sink(erring));
    try (Client client = new Client(server)) {
      client.send("fine\nfatal\n");
      assertThat(lines.take()).isEqualTo("fine");
      events.closed.await(closed -> closed.reason() == CloseReason.SERVER_ERROR);
      assertThat(client.awaitServerClose()).isTrue();
      assertThat(events.sinkFailed.all()).isEmpty();
    } finally {
      server.close();
    }
  }

  @Test
  void byteSink_receivesEachLinesBytes_andAFailureLosesOnlyItsLine() throws Exception {
    ByteLineSink sink =
        (connection, line) -> {
          if (line.length() > 0 && line.byteAt(0) == '!') {
            throw new IllegalArgumentException("no bangs");
          }
          int comma = line.indexOf((byte) ',', 0);
          lines.accept(comma + ":" + line.asString());
        };
    try (LineServer server = fixture.start(fixture.builder().byteSink(sink));
        Client client = new Client(server)) {
      client.send("v1,12\r\n!bad\nv22,7\n\nné,x\nta").send("il");
      client.shutdownOutput();
      assertThat(lines.take(5)).containsExactly("2:v1,12", "3:v22,7", "-1:", "3:né,x", "-1:tail");
      events.sinkFailed.await(failed -> "!bad".equals(failed.line()));
    }
  }

  /** An {@link Error} of our own, so the test's failure cannot be mistaken for a real one. */
  private static final class ServiceConfigurationError extends Error {
    private static final long serialVersionUID = 1L;

    ServiceConfigurationError(String message) {
      super(message);
    }
  }
}
