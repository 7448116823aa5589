package dev.lineserver.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lineserver.CloseReason;
import org.junit.jupiter.api.Test;

final class ConnectionClockTest {
  private static final long IDLE = 1_000;
  private static final long LINE = 300;
  private static final long HANDSHAKE = 200;
  private static final long START = 1_000_000;

  private final ConnectionClock clock =
      new ConnectionClock(new Settings.Timeouts(IDLE, LINE, HANDSHAKE, 0), START);

  @Test
  void expired_nothingPassed_null() {
    assertThat(clock.expired(START + LINE)).isNull();
  }

  @Test
  void expired_silentForIdleTimeout_idle() {
    assertThat(clock.expired(START + IDLE - 1)).isNull();
    assertThat(clock.expired(START + IDLE)).isEqualTo(CloseReason.IDLE_TIMEOUT);
  }

  @Test
  void expired_readMovesIdleDeadline() {
    clock.read(START + 500);
    assertThat(clock.expired(START + IDLE)).isNull();
    assertThat(clock.expired(START + 500 + IDLE)).isEqualTo(CloseReason.IDLE_TIMEOUT);
  }

  @Test
  void expired_partialLineHeldForLineTimeout_line() {
    clock.read(START + 10);
    clock.partial(true, false);
    assertThat(clock.expired(START + 10 + LINE - 1)).isNull();
    assertThat(clock.expired(START + 10 + LINE)).isEqualTo(CloseReason.LINE_TIMEOUT);
  }

  @Test
  void partial_stillTheSameLine_keepsItsStart() {
    clock.read(START + 10);
    clock.partial(true, false);
    clock.read(START + 200);
    clock.partial(true, false); // more of the same line
    assertThat(clock.expired(START + 10 + LINE)).isEqualTo(CloseReason.LINE_TIMEOUT);
  }

  @Test
  void partial_aLineEndedInTheRead_newLineStartsThen() {
    clock.read(START + 10);
    clock.partial(true, false);
    clock.read(START + 200);
    clock.partial(true, true); // the old line ended, a new one began in this read
    assertThat(clock.expired(START + 10 + LINE)).isNull();
    assertThat(clock.expired(START + 200 + LINE)).isEqualTo(CloseReason.LINE_TIMEOUT);
  }

  @Test
  void partial_noneHeld_lineTimeoutOff() {
    clock.read(START + 10);
    clock.partial(true, false);
    clock.partial(false, false);
    assertThat(clock.expired(START + 10 + LINE)).isNull();
  }

  @Test
  void expired_idleAndLineBothPassed_idleWins() {
    clock.partial(true, false);
    assertThat(clock.expired(START + IDLE)).isEqualTo(CloseReason.IDLE_TIMEOUT);
  }

  @Test
  void expired_handshakeDeadline_handshakeFailedBeforeTheOthers() {
    clock.handshakeStarted(START);
    clock.partial(true, false);
    assertThat(clock.expired(START + HANDSHAKE - 1)).isNull();
    assertThat(clock.expired(START + HANDSHAKE)).isEqualTo(CloseReason.HANDSHAKE_FAILED);
    assertThat(clock.expired(START + IDLE)).isEqualTo(CloseReason.HANDSHAKE_FAILED);
  }

  @Test
  void handshakesDone_handshakeDeadlineOff() {
    clock.handshakeStarted(START);
    clock.handshakesDone();
    assertThat(clock.expired(START + HANDSHAKE)).isNull();
  }

  @Test
  void resumed_everyDeadlineMovesByTheTimeHeld() {
    clock.handshakeStarted(START);
    clock.partial(true, false);
    clock.paused(START + 100);
    clock.resumed(START + 100 + 5_000);
    assertThat(clock.expired(START + 5_000 + HANDSHAKE - 1)).isNull();
    assertThat(clock.expired(START + 5_000 + HANDSHAKE)).isEqualTo(CloseReason.HANDSHAKE_FAILED);
    clock.handshakesDone();
    assertThat(clock.expired(START + 5_000 + LINE - 1)).isNull();
    assertThat(clock.expired(START + 5_000 + LINE)).isEqualTo(CloseReason.LINE_TIMEOUT);
  }

  @Test
  void resumed_noPartialLine_lineTimeoutStaysOff() {
    clock.paused(START);
    clock.resumed(START + 50);
    assertThat(clock.expired(START + 50 + LINE)).isNull();
    assertThat(clock.expired(START + 50 + IDLE)).isEqualTo(CloseReason.IDLE_TIMEOUT);
  }

  @Test
  void expired_timeoutsOff_never() {
    ConnectionClock off = new ConnectionClock(new Settings.Timeouts(0, 0, HANDSHAKE, 0), START);
    off.partial(true, false);
    assertThat(off.expired(START + Long.MAX_VALUE / 2)).isNull();
  }

  @Test
  void quietSince_countsFromTheLaterOfDrainStartAndLastRead() {
    clock.read(START + 100);
    assertThat(clock.quietSince(START, START + 100 + 199, 200)).isFalse();
    assertThat(clock.quietSince(START, START + 100 + 200, 200)).isTrue();
    assertThat(clock.quietSince(START + 500, START + 600, 200)).isFalse();
    assertThat(clock.quietSince(START + 500, START + 700, 200)).isTrue();
  }

  @Test
  void expired_handshakeUnderWay_onlyItsDeadlineCounts() {
    ConnectionClock slow =
        new ConnectionClock(new Settings.Timeouts(IDLE, LINE, 10 * IDLE, 0), START);
    slow.handshakeStarted(START);
    slow.partial(true, false); // half a TLS record of the handshake
    assertThat(slow.expired(START + LINE)).isNull();
    assertThat(slow.expired(START + IDLE)).isNull();
    assertThat(slow.expired(START + 10 * IDLE)).isEqualTo(CloseReason.HANDSHAKE_FAILED);
  }
}
