package dev.lineserver.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

final class PositionParserTest {

  @Test
  void parse_validLine_returnsEveryField() {
    Position position = PositionParser.parse("bus-42,1717171717000,52.520008,13.404954,38.5,271.0");

    assertThat(position)
        .isEqualTo(new Position("bus-42", 1717171717000L, 52.520008, 13.404954, 38.5, 271.0));
  }

  @Test
  void parse_lineOfPosition_roundTrips() {
    Position position = new Position("veh-7", 1L, -33.868820, 151.209296, 0.0, 360.0);

    assertThat(PositionParser.parse(position.toLine())).isEqualTo(position);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "v,0,-90,-180,0,0",
        "v,0,90,180,0,360",
        "v,-5,+1.5,-.5,0.,1e2",
        "v,9223372036854775807,0,0,300,0"
      })
  void parse_boundaryValues_accepted(String line) {
    assertThat(PositionParser.parse(line).vehicleId()).isEqualTo("v");
  }

  @ParameterizedTest
  @ValueSource(strings = {"v,1,2,3,4", "v,1,2,3,4,5,6", "v,1,2,3,4,5,", "", "v"})
  void parse_wrongFieldCount_namesCountAndLine(String line) {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> PositionParser.parse(line))
        .withMessageStartingWith("fields: " + line.split(",", -1).length)
        .withMessageContaining("\"" + line + "\"")
        .withMessageContaining("expected: 6");
  }

  @Test
  void parse_emptyVehicleId_rejected() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> PositionParser.parse(",1,2,3,4,5"))
        .withMessage("vehicleId: \"\" (expected: not empty)");
  }

  static Stream<Arguments> badFields() {
    return Stream.of(
        Arguments.of("v,abc,1,2,3,4", "epochMillis: \"abc\""),
        Arguments.of("v,1.5,1,2,3,4", "epochMillis: \"1.5\""),
        Arguments.of("v,,1,2,3,4", "epochMillis: \"\""),
        Arguments.of("v,99999999999999999999,1,2,3,4", "epochMillis: \"99999999999999999999\""),
        Arguments.of("v,1,90.0001,2,3,4", "lat: 90.0001 (expected: -90..90)"),
        Arguments.of("v,1,-91,2,3,4", "lat: -91 (expected: -90..90)"),
        Arguments.of("v,1,NaN,2,3,4", "lat: \"NaN\" (expected: a decimal number)"),
        Arguments.of("v,1,1d,2,3,4", "lat: \"1d\""),
        Arguments.of("v,1,0x1p3,2,3,4", "lat: \"0x1p3\""),
        Arguments.of("v,1, 12.5,2,3,4", "lat: \" 12.5\""),
        Arguments.of("v,1,1,180.5,3,4", "lon: 180.5 (expected: -180..180)"),
        Arguments.of("v,1,1,-200,3,4", "lon: -200 (expected: -180..180)"),
        Arguments.of("v,1,1,,3,4", "lon: \"\" (expected: a decimal number)"),
        Arguments.of("v,1,1,2,-0.1,4", "speedKmh: -0.1 (expected: a finite number >= 0)"),
        Arguments.of("v,1,1,2,1e999,4", "speedKmh: 1e999 (expected: a finite number >= 0)"),
        Arguments.of("v,1,1,2,fast,4", "speedKmh: \"fast\""),
        Arguments.of("v,1,1,2,3,360.1", "heading: 360.1 (expected: 0..360)"),
        Arguments.of("v,1,1,2,3,-1", "heading: -1 (expected: 0..360)"),
        Arguments.of("v,1,1,2,3,Infinity", "heading: \"Infinity\""));
  }

  @ParameterizedTest
  @MethodSource("badFields")
  void parse_badField_messageNamesFieldAndValue(String line, String expectedMessage) {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> PositionParser.parse(line))
        .withMessageStartingWith(expectedMessage);
  }
}
