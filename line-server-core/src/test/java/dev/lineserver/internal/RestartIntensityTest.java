package dev.lineserver.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

final class RestartIntensityTest {
  private static final long SECOND = 1_000_000_000L;

  @Test
  void allow_upToMaxRestartsWithinPeriod_thenRefuses() {
    RestartIntensity intensity = new RestartIntensity(3, 5 * SECOND);
    assertThat(intensity.allow(0)).isTrue();
    assertThat(intensity.allow(SECOND)).isTrue();
    assertThat(intensity.allow(2 * SECOND)).isTrue();
    assertThat(intensity.allow(3 * SECOND)).isFalse();
  }

  @Test
  void allow_oldRestartsLeaveTheWindow_allowsAgain() {
    RestartIntensity intensity = new RestartIntensity(3, 5 * SECOND);
    assertThat(intensity.allow(0)).isTrue();
    assertThat(intensity.allow(SECOND)).isTrue();
    assertThat(intensity.allow(2 * SECOND)).isTrue();
    assertThat(intensity.allow(5 * SECOND)).isTrue(); // the one at 0 is a full period old
    assertThat(intensity.allow(5 * SECOND + 1)).isFalse(); // 1, 2, 5, 5+: four within 5 s
  }

  @Test
  void allow_zeroRestarts_refusesTheFirstFailure() {
    assertThat(new RestartIntensity(0, SECOND).allow(42)).isFalse();
  }

  @Test
  void allow_negativeNanoTimes_workAcrossZero() {
    RestartIntensity intensity = new RestartIntensity(1, SECOND);
    assertThat(intensity.allow(-SECOND / 2)).isTrue();
    assertThat(intensity.allow(SECOND / 4)).isFalse();
  }
}
