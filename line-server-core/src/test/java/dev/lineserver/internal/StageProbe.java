package dev.lineserver.internal;

import dev.lineserver.CloseReason;
import dev.lineserver.ConnectionLineSink;
import dev.lineserver.LineServerListener;
import dev.lineserver.ProxyProtocol;
import dev.lineserver.RefusalReason;
import dev.lineserver.SendQueueFull;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * For stage tests without sockets: a {@link Stage.Context} that records what the stages ask of it
 * ({@link #events}, in order), and writes what they have for the peer into {@link #toPeer} when
 * they flush. {@link #next} is a last stage that records what reaches it. Runs TLS tasks inline.
 */
final class StageProbe implements Stage.Context {
  static final InetSocketAddress REMOTE = new InetSocketAddress("127.0.0.1", 40000);
  static final InetSocketAddress LOCAL = new InetSocketAddress("127.0.0.1", 7000);

  final Peer peer = newPeer();
  final ConnectionClock clock;
  final List<String> events = new ArrayList<>();
  final ByteArrayOutputStream toPeer = new ByteArrayOutputStream();
  final Next next = new Next();
  @Nullable Exception handshakeFailure;
  @Nullable Stage head;
  private boolean closed;

  StageProbe() {
    this(new Settings.Timeouts(0, 0, 0, 0));
  }

  /** With a clock that runs these timeouts from time 0. */
  StageProbe(Settings.Timeouts timeouts) {
    this.clock = new ConnectionClock(timeouts, 0);
  }

  /** A last stage that keeps the bytes it is handed and notes the rest. */
  final class Next implements Stage {
    final ByteArrayOutputStream received = new ByteArrayOutputStream();

    String text() {
      return received.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void read(ByteBuffer bytes) {
      while (bytes.hasRemaining()) {
        received.write(bytes.get());
      }
    }

    @Override
    public void endOfStream() {
      events.add("next endOfStream");
    }

    @Override
    public void quiet() {
      events.add("next quiet");
    }

    @Override
    public ByteBuffer outbound() {
      return NO_BYTES;
    }

    @Override
    public @Nullable String handshake() {
      return null;
    }

    @Override
    public boolean holdsPartialInput() {
      return false;
    }

    @Override
    public void closed() {
      events.add("next closed");
    }
  }

  /** Settings with every default, the listener doing nothing. */
  static Settings settings(ProxyProtocol proxyProtocol) {
    return settings(proxyProtocol, (connection, line) -> {}, new LineServerListener() {});
  }

  /**
   * Lines of at most 16 bytes go to {@code sink} on the I/O thread; 2 restarts a second; no
   * timeouts.
   */
  static Settings settings(
      ProxyProtocol proxyProtocol, ConnectionLineSink sink, LineServerListener listener) {
    return new Settings(
        new Settings.Listen(0, null, null, 50),
        1,
        new Settings.Framing(16, (byte) '\n', StandardCharsets.UTF_8),
        new Settings.SinkMode(sink, null, null, 0),
        listener,
        new Settings.Supervision(2, 1_000_000_000L),
        new Settings.Timeouts(0, 0, 0, 0),
        new Settings.Limits(Integer.MAX_VALUE, Integer.MAX_VALUE, AddressRanges.ALL),
        proxyProtocol,
        new KeepAlive(false, 120, 15, 4),
        null,
        new Settings.Sending(64 * 1024, SendQueueFull.CLOSE));
  }

  /** A fresh peer from {@link #REMOTE} to {@link #LOCAL}. */
  static Peer newPeer() {
    return new Peer(1, REMOTE, LOCAL, new Reports());
  }

  @Override
  public Peer peer() {
    return peer;
  }

  @Override
  public ConnectionClock clock() {
    return clock;
  }

  @Override
  public boolean isClosed() {
    return closed;
  }

  /** What the application sent, as the last stage pulls it: set by a test. */
  ByteBuffer sends = Stage.NO_BYTES;

  @Override
  public ByteBuffer sends() {
    return sends;
  }

  @Override
  public void handshakeDone() {
    events.add("handshakeDone");
  }

  @Override
  public void handshakeFailed(Exception error) {
    events.add("handshakeFailed");
    handshakeFailure = error;
    closed = true;
  }

  @Override
  public void refuse(SocketAddress client, CloseReason reason, RefusalReason refusal) {
    events.add("refuse " + reason);
    closed = true;
  }

  @Override
  public void close(CloseReason reason) {
    events.add("close " + reason);
    closed = true;
  }

  @Override
  public boolean flush() {
    Stage stage = head;
    if (stage != null) {
      ByteBuffer out = stage.outbound();
      while (out.hasRemaining()) {
        toPeer.write(out.get());
      }
    }
    return true;
  }

  @Override
  public void runTasks(Runnable tasks, Consumer<@Nullable Throwable> done) {
    events.add("runTasks");
    tasks.run();
    done.accept(null);
  }
}
