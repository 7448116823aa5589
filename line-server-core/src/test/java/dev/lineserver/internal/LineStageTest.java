package dev.lineserver.internal;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;

import dev.lineserver.CloseReason;
import dev.lineserver.ConnectionInfo;
import dev.lineserver.LineServerListener;
import dev.lineserver.ProxyProtocol;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

final class LineStageTest {
  private static final long LINE_TIMEOUT = 100;

  private final StageProbe probe = new StageProbe(new Settings.Timeouts(0, LINE_TIMEOUT, 0, 0));
  private final List<String> lines = new ArrayList<>();
  private final LineServerListener listener = mock(LineServerListener.class);
  private final Counters counters = new Counters();
  private boolean abandoned;

  private LineStage stage() {
    Settings settings =
        StageProbe.settings(
            ProxyProtocol.OFF,
            (connection, line) -> {
              if (line.startsWith("throw")) {
                throw new IllegalStateException(line);
              }
              if (line.startsWith("error")) {
                throw new AssertionError(line);
              }
              lines.add(line);
            },
            listener);
    return new LineStage(probe, new SinkCall.Scope(settings, counters, () -> abandoned), null);
  }

  private static ByteBuffer bytes(String text) {
    return ByteBuffer.wrap(text.getBytes(ISO_8859_1));
  }

  @Test
  void read_linesAcrossReads_deliveredInOrder() {
    LineStage stage = stage();
    stage.read(bytes("a\nb"));
    assertThat(stage.holdsPartialInput()).isTrue();
    stage.read(bytes("c\r\n\nd\n"));
    assertThat(lines).containsExactly("a", "bc", "", "d");
    assertThat(stage.holdsPartialInput()).isFalse();
    assertThat(counters.get(Counter.LINES)).isEqualTo(4);
    assertThat(probe.events).isEmpty();
  }

  @Test
  void read_partialLine_marksTheClockFromItsFirstRead() {
    LineStage stage = stage();
    probe.clock.read(10);
    stage.read(bytes("par"));
    probe.clock.read(50);
    stage.read(bytes("tial"));
    assertThat(probe.clock.expired(10 + LINE_TIMEOUT)).isEqualTo(CloseReason.LINE_TIMEOUT);
    probe.clock.read(60);
    stage.read(bytes("\n"));
    assertThat(probe.clock.expired(10 + LINE_TIMEOUT)).isNull();
  }

  @Test
  void read_aLineEndsAndAnotherBegins_theNewOneIsTimedFromThisRead() {
    LineStage stage = stage();
    probe.clock.read(10);
    stage.read(bytes("old"));
    probe.clock.read(80);
    stage.read(bytes("\nnew"));
    assertThat(probe.clock.expired(10 + LINE_TIMEOUT)).isNull();
    assertThat(probe.clock.expired(80 + LINE_TIMEOUT)).isEqualTo(CloseReason.LINE_TIMEOUT);
  }

  @Test
  void endOfStream_deliversTheTail() {
    LineStage stage = stage();
    stage.read(bytes("a\ntail"));
    stage.endOfStream();
    assertThat(lines).containsExactly("a", "tail");
  }

  @Test
  void read_sinkThrows_onlyThatLineIsLost() {
    LineStage stage = stage();
    stage.read(bytes("a\nthrow 1\nb\n"));
    assertThat(lines).containsExactly("a", "b");
    assertThat(probe.events).isEmpty();
    verify(listener).sinkFailed(any(), eq("throw 1"), any(IllegalStateException.class));
  }

  @Test
  void read_failuresPastTheRestartIntensity_closeWithRestartLimit() {
    LineStage stage = stage();
    stage.read(bytes("throw 1\nthrow 2\nthrow 3\nnever\n"));
    assertThat(probe.events).containsExactly("close " + CloseReason.RESTART_LIMIT);
    assertThat(lines).isEmpty();
  }

  @Test
  void read_sinkThrowsAnError_closesWithServerError() {
    LineStage stage = stage();
    stage.read(bytes("a\nerror\nnever\n"));
    assertThat(lines).containsExactly("a");
    assertThat(probe.events).containsExactly("close " + CloseReason.SERVER_ERROR);
    verify(listener).sinkError(any(), eq("error"), any(AssertionError.class));
  }

  @Test
  void read_lineTooLong_countedAndReportedAndTheNextOneDelivered() {
    LineStage stage = stage();
    stage.read(bytes("x".repeat(40) + "\nok\n"));
    assertThat(lines).containsExactly("ok");
    assertThat(counters.get(Counter.TOO_LONG)).isEqualTo(1);
    verify(listener).lineTooLong(any(), eq(40L));
  }

  @Test
  void read_afterClose_deliversNothing() {
    LineStage stage = stage();
    probe.close(CloseReason.PEER_RESET);
    stage.read(bytes("a\n"));
    assertThat(lines).isEmpty();
  }

  @Test
  void read_abandonedLoop_dropsTheLinesAndCloses() {
    LineStage stage = stage();
    abandoned = true;
    stage.read(bytes("a\nb\n"));
    assertThat(lines).isEmpty();
    assertThat(counters.get(Counter.LINES_DROPPED)).isEqualTo(2);
    assertThat(probe.events).containsExactly("close " + CloseReason.SHUTDOWN_TIMEOUT);
  }

  @Test
  void handshakeAndOutbound_none() {
    LineStage stage = stage();
    assertThat(stage.handshake()).isNull();
    assertThat(stage.outbound().hasRemaining()).isFalse();
  }

  @Test
  void read_twoConnectionsOfOneLoop_shareTheSpareBufferWithoutMixingTheirLines() {
    List<Long> tooLong = new ArrayList<>();
    LineServerListener recording =
        new LineServerListener() {
          @Override
          public void lineTooLong(ConnectionInfo connection, long length) {
            tooLong.add(length);
          }
        };
    Settings settings =
        StageProbe.settings(
            ProxyProtocol.OFF,
            (connection, line) -> {
              if (line.startsWith("throw")) {
                throw new IllegalStateException(line);
              }
              lines.add(line);
            },
            recording);
    SinkCall.Scope scope = new SinkCall.Scope(settings, counters, () -> false);
    LineStage a = new LineStage(new StageProbe(), scope, null);
    LineStage b = new LineStage(new StageProbe(), scope, null);

    a.read(bytes("a1"));
    b.read(bytes("b1\n"));
    a.read(bytes("A\n"));
    b.read(bytes("b2"));
    a.read(bytes("a3\nxxxxxxxxxxxxxxxxxxxx")); // a too-long line begins: discarding
    b.read(bytes("B\nthrow\nb4"));
    a.read(bytes("yy\nA5"));
    b.read(bytes("B\n"));
    a.read(bytes("\n"));

    assertThat(lines).containsExactly("b1", "a1A", "a3", "b2B", "b4B", "A5");
    assertThat(tooLong).containsExactly(22L);
    assertThat(a.holdsPartialInput()).isFalse();
    assertThat(b.holdsPartialInput()).isFalse();
  }
}
