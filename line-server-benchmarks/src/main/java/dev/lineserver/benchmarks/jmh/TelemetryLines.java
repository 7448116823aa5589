package dev.lineserver.benchmarks.jmh;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.util.SplittableRandom;

/**
 * Benchmark input: ASCII lines that look like vehicle telemetry CSV, each exactly as long as asked,
 * LF included, so a benchmark knows how many lines and bytes an invocation handles.
 */
public final class TelemetryLines {
  private TelemetryLines() {}

  /**
   * Returns {@code count} lines of exactly {@code length} bytes each, LF included: CSV records
   * ({@code vehicle,epoch millis,lat,lon,speed,heading}) joined by commas and cut to length: a line
   * of 11 bytes or more has its first comma at index 9, and no line has a CR.
   */
  public static byte[] lines(int length, int count, SplittableRandom random) {
    if (length < 2) {
      throw new IllegalArgumentException("length: " + length + " (expected: 2 or more)");
    }
    byte[] out = new byte[Math.multiplyExact(length, count)];
    StringBuilder line = new StringBuilder(length + 64);
    for (int i = 0; i < count; i++) {
      line.setLength(0);
      while (line.length() < length - 1) {
        line.append("veh-")
            .append(10000 + random.nextInt(90000))
            .append(',')
            .append(1_700_000_000_000L + random.nextInt(1_000_000_000))
            .append(',')
            .append(47 + random.nextInt(8))
            .append('.')
            .append(100000 + random.nextInt(900000))
            .append(',')
            .append(5 + random.nextInt(10))
            .append('.')
            .append(100000 + random.nextInt(900000))
            .append(',')
            .append(random.nextInt(130))
            .append(',')
            .append(random.nextInt(360))
            .append(',');
      }
      line.setLength(length - 1);
      line.append('\n');
      byte[] bytes = line.toString().getBytes(US_ASCII);
      System.arraycopy(bytes, 0, out, i * length, length);
    }
    return out;
  }

  /**
   * Returns {@code lines} rotated left by {@code shift} bytes. Rotating whole lines of length
   * {@code L} by {@code L - k} makes a stream that starts with the last {@code k} bytes of a line
   * and ends with the first {@code L - k} of the next, so it repeats seamlessly, and every cut at a
   * multiple of {@code L} falls {@code k} bytes before an LF.
   */
  public static byte[] rotate(byte[] lines, int shift) {
    byte[] out = new byte[lines.length];
    System.arraycopy(lines, shift, out, 0, lines.length - shift);
    System.arraycopy(lines, 0, out, lines.length - shift, shift);
    return out;
  }
}
