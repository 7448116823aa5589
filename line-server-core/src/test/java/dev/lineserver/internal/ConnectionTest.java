package dev.lineserver.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.argThat;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;

import dev.lineserver.CloseReason;
import dev.lineserver.LineServerListener;
import dev.lineserver.ProxyProtocol;
import dev.lineserver.SendQueueFull;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/** A connection's phases and reading state, over a {@link MemoryTransport} and a loop stand-in. */
final class ConnectionTest {
  private static final long HANDSHAKE = 1_000_000;
  private static final long IDLE = 5_000_000_000L;

  private final MemoryTransport transport = new MemoryTransport();
  private final LineServerListener listener = mock(LineServerListener.class);
  private final List<String> lines = new ArrayList<>();
  private final List<Runnable> sinkTasks = new ArrayList<>();
  private final ByteBuffer readBuffer = ByteBuffer.allocate(IoLoop.READ_BUFFER_SIZE);

  private LoopProbe loop(ProxyProtocol proxy, @Nullable Executor executor, long maxPendingBytes) {
    return new LoopProbe(
        new Settings(
            new Settings.Listen(0, null, null, 50),
            1,
            new Settings.Framing(64, (byte) '\n', StandardCharsets.UTF_8),
            new Settings.SinkMode((c, line) -> lines.add(line), null, executor, maxPendingBytes),
            listener,
            new Settings.Supervision(2, 1_000_000_000L),
            new Settings.Timeouts(IDLE, 0, HANDSHAKE, 0),
            new Settings.Limits(Integer.MAX_VALUE, Integer.MAX_VALUE, AddressRanges.ALL),
            proxy,
            new KeepAlive(false, 120, 15, 4),
            null,
            new Settings.Sending(64 * 1024, SendQueueFull.CLOSE)));
  }

  private Connection open(LoopProbe loop) {
    Connection connection = new Connection(transport, StageProbe.newPeer(), loop);
    connection.open();
    return connection;
  }

  /**
   * As the loop does on each readiness event: until the socket is empty or the connection closed.
   */
  private void readUntilEmpty(Connection connection) {
    for (int events = 0; events < 100 && !connection.isClosed(); events++) {
      if (connection.onReadable(readBuffer)) {
        return;
      }
    }
  }

  @Test
  void plain_opensAtOnce_deliversLines_andAtEofTheTail_thenClosed() {
    LoopProbe loop = loop(ProxyProtocol.OFF, null, 0);
    Connection connection = open(loop);
    verify(listener).connectionOpened(any());

    transport.send("a\nb");
    transport.send("c\ntail");
    transport.end();
    readUntilEmpty(connection);

    assertThat(lines).containsExactly("a", "bc", "tail");
    assertThat(connection.isClosed()).isTrue();
    assertThat(transport.closed).isTrue();
    assertThat(loop.closed).containsExactly(connection);
    verify(listener).connectionClosed(any(), eq(CloseReason.PEER_EOF));
    assertThat(loop.counters.closedCount(CloseReason.PEER_EOF)).isEqualTo(1);
  }

  @Test
  void proxy_handshakingUntilTheHeader_thenOpen() {
    LoopProbe loop = loop(ProxyProtocol.REQUIRED, null, 0);
    Connection connection = open(loop);
    transport.send("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r");
    connection.onReadable(readBuffer);
    verify(listener, never()).connectionOpened(any());

    transport.send("\nline\n");
    connection.onReadable(readBuffer);
    verify(listener).connectionOpened(any());
    assertThat(lines).containsExactly("line");
  }

  @Test
  void proxy_headerLate_abortedWithTimeout_neverReportedClosed() {
    LoopProbe loop = loop(ProxyProtocol.REQUIRED, null, 0);
    Connection connection = open(loop);
    transport.send("PROXY TCP4");
    connection.onReadable(readBuffer);

    connection.checkTimeouts(System.nanoTime() + HANDSHAKE, readBuffer);

    assertThat(connection.isClosed()).isTrue();
    verify(listener)
        .handshakeFailed(
            any(),
            argThat(
                e ->
                    e instanceof TimeoutException
                        && e.getMessage().startsWith("no complete PROXY protocol header within")));
    verify(listener, never()).connectionClosed(any(), any());
    assertThat(loop.counters.closedCount(CloseReason.HANDSHAKE_FAILED)).isEqualTo(1);
  }

  @Test
  void optionalProxy_quietAtTheDeadline_plain() {
    LoopProbe loop = loop(ProxyProtocol.OPTIONAL, null, 0);
    Connection connection = open(loop);
    transport.send("PRO");
    connection.onReadable(readBuffer);

    connection.checkTimeouts(System.nanoTime() + HANDSHAKE, readBuffer);
    transport.send("MPT\n");
    connection.onReadable(readBuffer);

    assertThat(connection.isClosed()).isFalse();
    verify(listener).connectionOpened(any());
    assertThat(lines).containsExactly("PROMPT");
  }

  @Test
  void idle_closedWithIdleTimeout() {
    LoopProbe loop = loop(ProxyProtocol.OFF, null, 0);
    Connection connection = open(loop);
    connection.checkTimeouts(System.nanoTime() + IDLE, readBuffer);
    verify(listener).connectionClosed(any(), eq(CloseReason.IDLE_TIMEOUT));
  }

  @Test
  void idle_bytesWaitingInTheSocket_readFirstAndNotTimedOut() {
    LoopProbe loop = loop(ProxyProtocol.OFF, null, 0);
    Connection connection = open(loop);
    transport.send("late\n");
    connection.checkTimeouts(System.nanoTime() + IDLE, readBuffer);
    assertThat(lines).containsExactly("late");
    assertThat(connection.isClosed()).isFalse();
  }

  @Test
  void budgetSpent_pausesReading_clockStill_resumes() {
    LoopProbe loop = loop(ProxyProtocol.OFF, sinkTasks::add, 1);
    Connection connection = open(loop);
    transport.send("a\n");
    connection.onReadable(readBuffer); // queues "a": the budget of 1 byte is spent
    transport.send("b\n");
    connection.onReadable(readBuffer);

    assertThat(transport.reading).isFalse();
    assertThat(loop.paused).containsExactly(connection);
    connection.checkTimeouts(System.nanoTime() + 10 * IDLE, readBuffer);
    assertThat(connection.isClosed()).isFalse(); // held back by us: no clock runs

    sinkTasks.remove(0).run(); // delivers "a", releases the budget
    connection.resume();
    assertThat(transport.reading).isTrue();
    connection.onReadable(readBuffer);
    sinkTasks.remove(0).run();
    assertThat(lines).containsExactly("a", "b");
  }

  @Test
  void drain_quietWithAPartialLine_waits_thenCutAtTheDeadline() {
    LoopProbe loop = loop(ProxyProtocol.OFF, null, 0);
    Connection connection = open(loop);
    transport.send("whole\npart");
    long start = System.nanoTime();
    connection.drainStep(start, start, false, readBuffer);
    connection.drainStep(start + IoLoop.QUIET_NANOS * 2, start, false, readBuffer);
    assertThat(connection.isClosed()).isFalse();

    connection.drainStep(start + IoLoop.QUIET_NANOS * 3, start, true, readBuffer);
    assertThat(lines).containsExactly("whole");
    verify(listener).connectionClosed(any(), eq(CloseReason.SHUTDOWN_TIMEOUT));
    assertThat(loop.counters.get(Counter.PARTIAL_LINES_DROPPED)).isEqualTo(1);
  }

  @Test
  void drain_quietAndNothingPartial_serverClose() {
    LoopProbe loop = loop(ProxyProtocol.OFF, null, 0);
    Connection connection = open(loop);
    transport.send("whole\n");
    long start = System.nanoTime();
    connection.drainStep(start, start, false, readBuffer);
    assertThat(connection.isClosed()).isFalse(); // bytes just came: not quiet yet
    connection.drainStep(System.nanoTime() + IoLoop.QUIET_NANOS, start, false, readBuffer);
    verify(listener).connectionClosed(any(), eq(CloseReason.SERVER_CLOSE));
  }

  @Test
  void drain_pastTheDeadline_readsNothingMore() {
    LoopProbe loop = loop(ProxyProtocol.OFF, null, 0);
    Connection connection = open(loop);
    loop.pastDrainDeadline = true;
    transport.send("never\n");
    connection.onReadable(readBuffer);
    assertThat(lines).isEmpty();
    verify(listener).connectionClosed(any(), eq(CloseReason.SHUTDOWN_TIMEOUT));
  }

  @Test
  void close_twice_reportedOnce() {
    LoopProbe loop = loop(ProxyProtocol.OFF, null, 0);
    Connection connection = open(loop);
    connection.close(CloseReason.PEER_RESET);
    connection.close(CloseReason.SERVER_CLOSE);
    verify(listener).connectionClosed(any(), eq(CloseReason.PEER_RESET));
    verify(listener, never()).connectionClosed(any(), eq(CloseReason.SERVER_CLOSE));
    assertThat(loop.closed).hasSize(1);
  }

  @Test
  void proxy_partialHeaderThenEof_readOnInTheSameEvent_fails() {
    LoopProbe loop = loop(ProxyProtocol.REQUIRED, null, 0);
    Connection connection = open(loop);
    transport.send("PROXY TCP4");
    transport.end();
    connection.onReadable(readBuffer); // a short read inside the header reads on, and meets EOF
    assertThat(connection.isClosed()).isTrue();
    verify(listener).handshakeFailed(any(), any());
  }

  @Test
  void proxy_partialHeaderThenNothing_socketReportedEmpty() {
    LoopProbe loop = loop(ProxyProtocol.REQUIRED, null, 0);
    Connection connection = open(loop);
    transport.send("PROXY TCP4");
    assertThat(connection.onReadable(readBuffer)).isTrue();
  }
}
