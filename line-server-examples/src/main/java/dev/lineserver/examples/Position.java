package dev.lineserver.examples;

import java.util.Locale;

/**
 * One position report of one vehicle, as a line {@code
 * vehicleId,epochMillis,lat,lon,speedKmh,heading} carries it. Plain data: {@link PositionParser} is
 * what checks the ranges.
 *
 * @param heading degrees clockwise from north
 */
record Position(
    String vehicleId, long epochMillis, double lat, double lon, double speedKmh, double heading) {

  /** This position as a line without its terminator; {@link PositionParser#parse} reads it back. */
  String toLine() {
    return String.format(
        Locale.ROOT,
        "%s,%d,%.6f,%.6f,%.1f,%.1f",
        vehicleId,
        epochMillis,
        lat,
        lon,
        speedKmh,
        heading);
  }
}
