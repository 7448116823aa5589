package dev.lineserver.examples;

import java.util.regex.Pattern;

/**
 * Parses and validates position lines {@code vehicleId,epochMillis,lat,lon,speedKmh,heading}. A bad
 * line throws {@link IllegalArgumentException} naming the field and quoting what was sent, in the
 * form {@code lat: 91.5 (expected: -90..90)}; nothing is trimmed or guessed.
 */
final class PositionParser {
  static final int FIELDS = 6;

  /**
   * Plain decimal notation; rejects what {@link Double#parseDouble} would also take: NaN, 1d,
   * 0x1p3.
   */
  private static final Pattern DECIMAL =
      Pattern.compile("[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?");

  private PositionParser() {}

  /**
   * Returns the position {@code line} describes.
   *
   * @throws IllegalArgumentException if a field is missing, extra, empty, not a number or out of
   *     range; the message names the first bad field and its value
   */
  static Position parse(String line) {
    String[] fields = line.split(",", -1);
    if (fields.length != FIELDS) {
      throw new IllegalArgumentException(
          "fields: "
              + fields.length
              + " in \""
              + line
              + "\" (expected: 6, vehicleId,epochMillis,lat,lon,speedKmh,heading)");
    }
    String vehicleId = fields[0];
    if (vehicleId.isEmpty()) {
      throw new IllegalArgumentException("vehicleId: \"\" (expected: not empty)");
    }
    return new Position(
        vehicleId,
        parseLong("epochMillis", fields[1]),
        parseDouble("lat", fields[2], -90, 90, "-90..90"),
        parseDouble("lon", fields[3], -180, 180, "-180..180"),
        parseDouble("speedKmh", fields[4], 0, Double.MAX_VALUE, "a finite number >= 0"),
        parseDouble("heading", fields[5], 0, 360, "0..360"));
  }

  private static long parseLong(String name, String text) {
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          name + ": \"" + text + "\" (expected: a whole number of milliseconds)", e);
    }
  }

  private static double parseDouble(
      String name, String text, double min, double max, String expected) {
    if (!DECIMAL.matcher(text).matches()) {
      throw new IllegalArgumentException(name + ": \"" + text + "\" (expected: a decimal number)");
    }
    double value = Double.parseDouble(text);
    if (!(value >= min && value <= max)) {
      throw new IllegalArgumentException(name + ": " + text + " (expected: " + expected + ")");
    }
    return value;
  }
}
