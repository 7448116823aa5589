package dev.lineserver.examples;

import java.util.SplittableRandom;

/**
 * One simulated vehicle driving around Berlin: speed and heading take small random steps, the
 * position follows by dead reckoning, and a vehicle that reaches the edge of the area turns back.
 * It reports every {@link #intervalNanos()}, a setting its server may change. Mutable; owned by the
 * one simulator thread that reports it, which alone writes it; the interval may be read anywhere.
 */
final class SimulatedVehicle {
  static final double CENTER_LAT = 52.52;
  static final double CENTER_LON = 13.405;

  /** Half the area's height and width in degrees: about 11 km each way. */
  static final double SPAN_LAT = 0.1;

  static final double SPAN_LON = 0.16;

  private static final double KM_PER_DEGREE_LAT = 111.32;
  private static final double MAX_SPEED_KMH = 110;

  private final String id;
  private double lat;
  private double lon;
  private double speedKmh;
  private double heading;
  private long lastMillis;
  private volatile long intervalNanos;
  private long nextReportNanos;

  SimulatedVehicle(String id, long intervalNanos, SplittableRandom random, long nowMillis) {
    this.id = id;
    setIntervalNanos(intervalNanos);
    this.lat = CENTER_LAT + random.nextDouble(-SPAN_LAT, SPAN_LAT);
    this.lon = CENTER_LON + random.nextDouble(-SPAN_LON, SPAN_LON);
    this.speedKmh = random.nextInt(10) == 0 ? 0 : random.nextDouble(10, 60);
    this.heading = random.nextDouble(0, 360);
    this.lastMillis = nowMillis;
  }

  String id() {
    return id;
  }

  /** How often this vehicle reports, in nanoseconds. */
  long intervalNanos() {
    return intervalNanos;
  }

  void setIntervalNanos(long intervalNanos) {
    if (intervalNanos <= 0) {
      throw new IllegalArgumentException("intervalNanos: " + intervalNanos + " (expected: > 0)");
    }
    this.intervalNanos = intervalNanos;
  }

  /** When, on the {@link System#nanoTime()} clock, this vehicle reports next. */
  long nextReportNanos() {
    return nextReportNanos;
  }

  void scheduleAt(long nanoTime) {
    this.nextReportNanos = nanoTime;
  }

  /** Moves the vehicle on to {@code nowMillis} and returns where it is. */
  Position next(long nowMillis, SplittableRandom random) {
    double seconds = Math.min(10, Math.max(0, (nowMillis - lastMillis) / 1000.0));
    lastMillis = nowMillis;
    steer(random);
    double km = speedKmh * seconds / 3600;
    double bearing = Math.toRadians(heading);
    lat += km * Math.cos(bearing) / KM_PER_DEGREE_LAT;
    lon += km * Math.sin(bearing) / (KM_PER_DEGREE_LAT * Math.cos(Math.toRadians(lat)));
    if (Math.abs(lat - CENTER_LAT) > SPAN_LAT || Math.abs(lon - CENTER_LON) > SPAN_LON) {
      lat = clamp(lat, CENTER_LAT - SPAN_LAT, CENTER_LAT + SPAN_LAT);
      lon = clamp(lon, CENTER_LON - SPAN_LON, CENTER_LON + SPAN_LON);
      heading = (heading + 180) % 360;
    }
    return new Position(id, nowMillis, lat, lon, speedKmh, heading);
  }

  /** Stops at a light now and then, moves off again, accelerates a little, turns at junctions. */
  private void steer(SplittableRandom random) {
    if (speedKmh == 0) {
      if (random.nextInt(4) == 0) {
        speedKmh = random.nextDouble(5, 15);
      }
      return;
    }
    if (random.nextInt(40) == 0) {
      speedKmh = 0;
      return;
    }
    speedKmh = clamp(speedKmh + random.nextDouble(-6, 6), 1, MAX_SPEED_KMH);
    double turn = random.nextInt(15) == 0 ? (random.nextBoolean() ? 90 : -90) : 0;
    heading = ((heading + turn + random.nextDouble(-8, 8)) % 360 + 360) % 360;
  }

  private static double clamp(double value, double min, double max) {
    return Math.max(min, Math.min(max, value));
  }
}
