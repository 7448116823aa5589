package dev.lineserver.internal;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lineserver.CloseReason;
import dev.lineserver.ConnectionInfo;
import dev.lineserver.LineServerListener;
import dev.lineserver.ProxyProtocol;
import dev.lineserver.SendQueueFull;
import dev.lineserver.SendResult;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntSupplier;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * Seeded random streams through a whole connection over a {@link MemoryTransport}: an optional or
 * required PROXY header, lines empty, CR-ended, too long or failing in the sink, cut into random
 * reads, ended by EOF or by a drain. Every line that should reach the sink does, in order, and
 * nothing else; the close reason is the one the ending calls for. Meanwhile the sink (on the loop
 * thread) and the test (as another thread) send, through every kind of send, into a socket that
 * takes a few bytes a write or none: what is written is what was queued, in order, and an orderly
 * end writes all of it before the socket closes; what a cut end did not write is counted dropped.
 */
final class PipelinePropertyTest {
  private static final int MAX_LINE = 64;
  private static final int RUNS = Integer.getInteger("lineserver.pipeline.runs", 3_000);
  private static final String HEADER = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n";
  // "PROXY " and "\r\n\r\n" begin PROXY signatures: in optional mode such a stream is held until
  // it differs (a 6-letter match of "PROXY " is too rare to matter here).
  private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789 ,.;:PPPROXY!\r";

  @Test
  void randomStreams_deliverExactlyTheExpectedLines() {
    Long given = Long.getLong("lineserver.pipeline.seed");
    long seed = given != null ? given : new SplittableRandom().nextLong();
    SplittableRandom random = new SplittableRandom(seed);
    for (int run = 0; run < RUNS; run++) {
      long runSeed = random.nextLong();
      try {
        runOnce(new SplittableRandom(runSeed));
      } catch (AssertionError e) {
        throw new AssertionError(
            "pipeline run " + run + " failed: seed " + seed + ", run seed " + runSeed, e);
      }
    }
  }

  private static void runOnce(SplittableRandom random) {
    ProxyProtocol proxy = ProxyProtocol.values()[random.nextInt(3)];
    boolean withHeader =
        proxy == ProxyProtocol.REQUIRED
            || (proxy == ProxyProtocol.OPTIONAL && random.nextBoolean());
    List<String> delivered = new ArrayList<>();
    Sender sender = new Sender(random.split(), random.nextInt(4) == 0 ? 0 : random.nextInt(1, 4));
    LoopProbe loop = loop(proxy, delivered, sender);
    MemoryTransport transport = new MemoryTransport();
    transport.writeCapacity = capacity(random.split());

    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    List<String> expected = new ArrayList<>();
    int failing = 0;
    int lines = random.nextInt(0, 30);
    boolean signatureLike = proxy == ProxyProtocol.OPTIONAL && !withHeader && random.nextBoolean();
    for (int i = 0; i < lines; i++) {
      String line = randomLine(random);
      if (i == 0 && signatureLike) {
        line = (random.nextBoolean() ? "PROX".substring(0, 1 + random.nextInt(4)) : "\r") + line;
      }
      boolean fails = line.contains("!") && failing < 2; // within the restart intensity
      if (line.contains("!") && !fails) {
        line = line.replace('!', '?');
      }
      failing += fails ? 1 : 0;
      stream.writeBytes((line + "\n").getBytes(ISO_8859_1));
      String stripped = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
      if (stripped.length() <= MAX_LINE && !fails) {
        expected.add(stripped);
      }
    }
    String tail = random.nextInt(3) == 0 ? randomLine(random).replace("!", "") : "";
    boolean byEof = random.nextBoolean();
    stream.writeBytes(tail.getBytes(ISO_8859_1));
    if (byEof && !tail.isEmpty() && tail.length() <= MAX_LINE) {
      expected.add(tail);
    }
    byte[] payload = stream.toByteArray();
    byte[] all = withHeader ? concat(HEADER.getBytes(ISO_8859_1), payload) : payload;
    for (int at = 0; at < all.length; ) {
      int most = at == 0 && signatureLike ? 3 : random.nextBoolean() ? 8 : 200;
      int n = Math.min(all.length - at, 1 + random.nextInt(most));
      transport.send(new String(all, at, n, ISO_8859_1));
      at += n;
    }

    Connection connection = new Connection(transport, StageProbe.newPeer(), loop);
    connection.open();
    ByteBuffer readBuffer = ByteBuffer.allocate(IoLoop.READ_BUFFER_SIZE);
    for (int events = 0; events < 10_000 && !connection.isClosed(); events++) {
      boolean empty = connection.onReadable(readBuffer);
      sender.fromAnotherThread(connection.peer(), loop);
      loopRound(connection, loop, transport, sender, random);
      if (empty) {
        break;
      }
    }
    CloseReason want;
    if (byEof) {
      transport.end();
      connection.onReadable(readBuffer);
      loop.flushSends();
      writeAll(connection, loop, transport, sender);
      want = CloseReason.PEER_EOF;
    } else {
      long start = System.nanoTime();
      connection.drainStep(
          start + IoLoop.QUIET_NANOS, start - IoLoop.QUIET_NANOS, false, readBuffer);
      loop.flushSends();
      boolean written = random.nextInt(4) != 0; // else the deadline cuts the closing connection
      if (written) {
        writeAll(connection, loop, transport, sender);
        if (transport.outputShut && random.nextBoolean()) {
          transport.end(); // the peer read our end and ends too: the lingering close is over
          connection.onReadable(readBuffer);
        }
      }
      boolean unwritten = transport.written.size() < sender.queued.size();
      connection.drainStep(start + IoLoop.QUIET_NANOS * 2, start, true, readBuffer);
      want =
          tail.isEmpty() && (written || !unwritten)
              ? CloseReason.SERVER_CLOSE
              : CloseReason.SHUTDOWN_TIMEOUT;
    }

    assertThat(connection.isClosed()).as("closed").isTrue();
    assertThat(transport.closed).as("socket closed").isTrue();
    assertThat(delivered).isEqualTo(expected);
    assertThat(loop.counters.closedCount(want)).as("closed with " + want).isEqualTo(1);
    byte[] queued = sender.queued.toByteArray();
    byte[] written = transport.written.toByteArray();
    assertThat(transport.writtenAfterClose).as("a write after the close").isFalse();
    if (want == CloseReason.SHUTDOWN_TIMEOUT) {
      assertThat(written.length)
          .as("written, of what was queued")
          .isLessThanOrEqualTo(queued.length);
      assertThat(new String(written, ISO_8859_1))
          .as("written: what was queued, in order")
          .isEqualTo(new String(queued, 0, written.length, ISO_8859_1));
    } else {
      assertThat(new String(written, ISO_8859_1))
          .as("written at an orderly end: all that was queued, in order")
          .isEqualTo(new String(queued, ISO_8859_1));
    }
    assertThat(loop.counters.get(Counter.BYTES_SENT)).as("bytesSent").isEqualTo(written.length);
    assertThat(loop.counters.get(Counter.SEND_BYTES_DROPPED))
        .as("sendBytesDropped")
        .isEqualTo(queued.length - written.length);
    assertThat(connection.peer().remoteAddress())
        .isEqualTo(withHeader ? new InetSocketAddress("192.0.2.1", 56324) : StageProbe.REMOTE);
  }

  /**
   * What the loop does after a round: writes the sends of the round; then, while the socket is
   * full, reports it writable now and then. A connection with bytes left to write must wait for
   * writability or a flush.
   */
  private static void loopRound(
      Connection connection,
      LoopProbe loop,
      MemoryTransport transport,
      Sender sender,
      SplittableRandom random) {
    loop.flushSends();
    while (transport.writing && !transport.closed && random.nextInt(3) != 0) {
      connection.flushSends();
      loop.flushSends();
    }
    assertNotStalled(loop, transport, sender);
  }

  /** Reports the socket writable until the connection has written all or closed its socket. */
  private static void writeAll(
      Connection connection, LoopProbe loop, MemoryTransport transport, Sender sender) {
    for (int events = 0; events < 100_000 && !transport.closed; events++) {
      assertNotStalled(loop, transport, sender);
      if (!transport.writing && loop.toFlush.isEmpty()) {
        return; // all written, the connection open (or closed, which the caller checks)
      }
      connection.flushSends();
      loop.flushSends();
    }
  }

  private static void assertNotStalled(LoopProbe loop, MemoryTransport transport, Sender sender) {
    if (!transport.closed && transport.written.size() < sender.queued.size()) {
      assertThat(transport.writing || !loop.toFlush.isEmpty())
          .as(
              "%d of %d queued bytes written: the connection waits for writability or a flush",
              transport.written.size(), sender.queued.size())
          .isTrue();
    }
  }

  /** How much a write takes: all, or a few bytes, none a third of the time. */
  private static IntSupplier capacity(SplittableRandom random) {
    return switch (random.nextInt(3)) {
      case 0 -> () -> Integer.MAX_VALUE;
      case 1 -> () -> random.nextInt(3) == 0 ? 0 : random.nextInt(1, 8);
      default -> () -> random.nextInt(3) == 0 ? 0 : random.nextInt(1, 200);
    };
  }

  /**
   * Sends numbered texts through every kind of send, from the sink or as another thread, and keeps
   * what was queued, in order.
   */
  private static final class Sender {
    private final SplittableRandom random;
    private final int most; // sends per line at most; 0: none in this run
    final ByteArrayOutputStream queued = new ByteArrayOutputStream();
    private int next;

    Sender(SplittableRandom random, int most) {
      this.random = random;
      this.most = most;
    }

    /** From the sink, on the loop thread. */
    void fromSink(ConnectionInfo connection) {
      if (most > 0) {
        for (int i = random.nextInt(most + 1); i > 0; i--) {
          sendOne(connection);
        }
      }
    }

    /** From the test, as another thread would: the flush is handed to the loop. */
    void fromAnotherThread(ConnectionInfo connection, LoopProbe loop) {
      if (most > 0 && random.nextInt(3) == 0) {
        loop.onLoopThread = false;
        try {
          sendOne(connection);
        } finally {
          loop.onLoopThread = true;
        }
      }
    }

    private void sendOne(ConnectionInfo connection) {
      int n = next++;
      // Now and then a long one: a queue of several buffers.
      int padding = random.nextInt(8) == 0 ? random.nextInt(300, 900) : random.nextInt(20);
      String text = (random.nextInt(5) == 0 ? "\u00e9" : "s") + n + "x".repeat(padding);
      byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
      byte[] line = (text + "\n").getBytes(StandardCharsets.UTF_8);
      SendResult result;
      byte[] sent;
      switch (random.nextInt(6)) {
        case 0 -> {
          result = connection.sendLine(text);
          sent = line;
        }
        case 1 -> {
          result = connection.send(text);
          sent = bytes;
        }
        case 2 -> {
          result = connection.send(bytes);
          sent = bytes;
        }
        case 3 -> {
          int offset = random.nextInt(bytes.length + 1);
          int length = random.nextInt(bytes.length - offset + 1);
          result = connection.send(bytes, offset, length);
          sent = Arrays.copyOfRange(bytes, offset, offset + length);
        }
        case 4 -> {
          ByteBuffer buffer = ByteBuffer.allocate(bytes.length + 4);
          buffer.position(2).put(bytes).flip().position(2);
          result = connection.send(buffer);
          sent = bytes;
        }
        default -> {
          result = connection.send(new byte[0]);
          sent = new byte[0];
        }
      }
      if (result == SendResult.QUEUED) {
        queued.writeBytes(sent);
      } else {
        assertThat(result).as("a send to an open connection").isEqualTo(SendResult.CLOSED);
      }
    }
  }

  private static String randomLine(SplittableRandom random) {
    int length =
        random.nextInt(4) == 0 ? random.nextInt(MAX_LINE - 4, MAX_LINE + 6) : random.nextInt(12);
    StringBuilder line = new StringBuilder();
    for (int i = 0; i < length; i++) {
      char c = ALPHABET.charAt(random.nextInt(ALPHABET.length()));
      line.append(c == '\r' && i < length - 1 ? 'r' : c);
    }
    return line.toString();
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] both = new byte[a.length + b.length];
    System.arraycopy(a, 0, both, 0, a.length);
    System.arraycopy(b, 0, both, a.length, b.length);
    return both;
  }

  private static LoopProbe loop(ProxyProtocol proxy, List<String> delivered, Sender sender) {
    return new LoopProbe(
        new Settings(
            new Settings.Listen(0, null, null, 50),
            1,
            new Settings.Framing(MAX_LINE, (byte) '\n', StandardCharsets.UTF_8),
            new Settings.SinkMode(
                (c, line) -> {
                  sender.fromSink(c);
                  if (line.contains("!")) {
                    throw new IllegalStateException("a failing line");
                  }
                  delivered.add(line);
                },
                null,
                null,
                0),
            new LineServerListener() {
              @Override
              public void sinkFailed(
                  ConnectionInfo connection, @Nullable String line, Exception error) {}

              @Override
              public void lineTooLong(ConnectionInfo connection, long length) {}
            },
            new Settings.Supervision(2, 60_000_000_000L),
            new Settings.Timeouts(0, 0, 0, 0),
            new Settings.Limits(Integer.MAX_VALUE, Integer.MAX_VALUE, AddressRanges.ALL),
            proxy,
            new KeepAlive(false, 120, 15, 4),
            null,
            new Settings.Sending(64 * 1024, SendQueueFull.CLOSE)));
  }
}
