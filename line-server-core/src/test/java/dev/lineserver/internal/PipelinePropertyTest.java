package dev.lineserver.internal;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lineserver.CloseReason;
import dev.lineserver.ConnectionInfo;
import dev.lineserver.LineServerListener;
import dev.lineserver.ProxyProtocol;
import dev.lineserver.SendQueueFull;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/**
 * Seeded random streams through a whole connection over a {@link MemoryTransport}: an optional or
 * required PROXY header, lines empty, CR-ended, too long or failing in the sink, cut into random
 * reads, ended by EOF or by a drain. Every line that should reach the sink does, in order, and
 * nothing else; the close reason is the one the ending calls for.
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
    LoopProbe loop = loop(proxy, delivered);
    MemoryTransport transport = new MemoryTransport();

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
      if (connection.onReadable(readBuffer)) {
        break;
      }
    }
    CloseReason want;
    if (byEof) {
      transport.end();
      connection.onReadable(readBuffer);
      want = CloseReason.PEER_EOF;
    } else {
      long start = System.nanoTime();
      connection.drainStep(
          start + IoLoop.QUIET_NANOS, start - IoLoop.QUIET_NANOS, false, readBuffer);
      connection.drainStep(start + IoLoop.QUIET_NANOS * 2, start, true, readBuffer);
      want = tail.isEmpty() ? CloseReason.SERVER_CLOSE : CloseReason.SHUTDOWN_TIMEOUT;
    }

    assertThat(connection.isClosed()).as("closed").isTrue();
    assertThat(delivered).isEqualTo(expected);
    assertThat(loop.counters.closedCount(want)).as("closed with " + want).isEqualTo(1);
    assertThat(connection.peer().remoteAddress())
        .isEqualTo(withHeader ? new InetSocketAddress("192.0.2.1", 56324) : StageProbe.REMOTE);
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

  private static LoopProbe loop(ProxyProtocol proxy, List<String> delivered) {
    return new LoopProbe(
        new Settings(
            new Settings.Listen(0, null, null, 50),
            1,
            new Settings.Framing(MAX_LINE, (byte) '\n', StandardCharsets.UTF_8),
            new Settings.SinkMode(
                (c, line) -> {
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
