package dev.lineserver.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

final class SimulatedVehicleTest {

  @Test
  void next_hoursOfReports_staysInAreaAndParses() {
    long seed = System.nanoTime();
    SplittableRandom random = new SplittableRandom(seed);
    long millis = 1_700_000_000_000L;
    SimulatedVehicle vehicle = new SimulatedVehicle("veh-1", 1_000_000_000L, random, millis);
    Position previous = null;
    for (int i = 0; i < 20_000; i++) {
      millis += 1000;
      Position position = vehicle.next(millis, random);

      assertThat(PositionParser.parse(position.toLine()))
          .as("seed %d, report %d", seed, i)
          .satisfies(
              parsed -> {
                assertThat(parsed.lat())
                    .isCloseTo(SimulatedVehicle.CENTER_LAT, within(SimulatedVehicle.SPAN_LAT));
                assertThat(parsed.lon())
                    .isCloseTo(SimulatedVehicle.CENTER_LON, within(SimulatedVehicle.SPAN_LON));
                assertThat(parsed.speedKmh()).isBetween(0.0, 110.0);
              });
      if (previous != null) {
        // 110 km/h for one second is about 31 m, well under 0.001 degrees.
        assertThat(Math.abs(position.lat() - previous.lat()))
            .as("seed %d, report %d", seed, i)
            .isLessThan(0.001);
      }
      previous = position;
    }
  }

  @Test
  void malformed_everyKind_isRejectedByParser() {
    Position position = new Position("veh-1", 1000, 52.5, 13.4, 30, 90);
    for (int kind = 0; kind < FleetSimulator.MALFORMED_KINDS; kind++) {
      String line = FleetSimulator.malformed(position, kind);

      assertThatIllegalArgumentException()
          .as("kind %d: %s", kind, line)
          .isThrownBy(() -> PositionParser.parse(line));
    }
  }

  @Test
  void malformed_unknownKind_throws() {
    Position position = new Position("veh-1", 1000, 52.5, 13.4, 30, 90);

    assertThatIllegalArgumentException()
        .isThrownBy(() -> FleetSimulator.malformed(position, FleetSimulator.MALFORMED_KINDS))
        .withMessageStartingWith("kind: " + FleetSimulator.MALFORMED_KINDS);
  }
}
