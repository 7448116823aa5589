package dev.lineserver.benchmarks.load;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Builds the vehicle CSV lines the load client sends: {@code
 * vehicleId,epochMillis,lat,lon,speedKmh, heading}, padded with spaces before the LF to an exact
 * length that includes the LF. Below the full form's length (16 bytes) the short form {@code
 * id,lat,lon} is used. Latency lines carry {@link System#nanoTime()} as a 19-digit field in place
 * of the epoch millis.
 */
final class Lines {
  static final int MIN_LENGTH = 16;

  /**
   * What an acknowledging server answers to every line, the same bytes from every server: {@code
   * ACK} and LF. Four bytes, so the client checks each whole ACK with one {@code getInt}.
   */
  static final String ACK_TEXT = "ACK";

  /** {@link #ACK_TEXT} and its LF. Never written to. */
  static final byte[] ACK = (ACK_TEXT + "\n").getBytes(StandardCharsets.US_ASCII);

  /** Where the 19-digit stamp starts in a latency line ({@code v00042,}). */
  static final int STAMP_OFFSET = 7;

  static final int STAMP_DIGITS = 19;

  /** The longest latency line before padding, with its LF. */
  static final int MIN_LATENCY_LENGTH = 57;

  /** Bytes per pre-built chunk of whole lines that a throughput connection writes over and over. */
  private static final int CHUNK_BYTES = 256 * 1024;

  private static final long EPOCH_MILLIS = 1_764_000_000_000L;

  private Lines() {}

  /** One line of exactly {@code length} bytes, LF included. */
  static byte[] vehicleLine(SplittableRandom random, int length) {
    if (length < MIN_LENGTH) {
      throw new IllegalArgumentException(
          "line length: " + length + " (expected: >= " + MIN_LENGTH + ")");
    }
    int vehicle = random.nextInt(100_000);
    double lat = 47 + random.nextDouble() * 8;
    double lon = 10 + random.nextDouble() * 5;
    String full =
        String.format(
            Locale.ROOT,
            "v%05d,%013d,%.6f,%.6f,%.1f,%d",
            vehicle,
            EPOCH_MILLIS + random.nextInt(86_400_000),
            lat,
            lon,
            random.nextDouble() * 130,
            random.nextInt(360));
    String text =
        full.length() < length
            ? full
            : String.format(Locale.ROOT, "%03d,%.2f,%.2f", vehicle % 1000, lat, lon);
    return pad(text, length);
  }

  /** A latency line of exactly {@code length} bytes whose stamp field is all zeros. */
  static byte[] latencyLine(SplittableRandom random, int length) {
    if (length < MIN_LATENCY_LENGTH) {
      throw new IllegalArgumentException(
          "latency line length: " + length + " (expected: >= " + MIN_LATENCY_LENGTH + ")");
    }
    String text =
        String.format(
            Locale.ROOT,
            "v%05d,%019d,%.6f,%.6f,%.1f,%d",
            random.nextInt(100_000),
            0L,
            47 + random.nextDouble() * 8,
            10 + random.nextDouble() * 5,
            random.nextDouble() * 130,
            random.nextInt(360));
    return pad(text, length);
  }

  /** Writes {@code stamp} (not negative) as 19 digits at {@code index}, the line's stamp field. */
  static void writeStamp(ByteBuffer buffer, int index, long stamp) {
    long value = stamp;
    for (int i = STAMP_DIGITS - 1; i >= 0; i--) {
      buffer.put(index + i, (byte) ('0' + (int) (value % 10)));
      value /= 10;
    }
  }

  /**
   * A direct buffer of about 256 KiB of whole, different lines of {@code length} bytes, flipped.
   */
  static ByteBuffer chunk(int length, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    int lines = Math.max(1, CHUNK_BYTES / length);
    ByteBuffer chunk = ByteBuffer.allocateDirect(lines * length);
    for (int i = 0; i < lines; i++) {
      chunk.put(vehicleLine(random, length));
    }
    return chunk.flip();
  }

  private static byte[] pad(String text, int length) {
    byte[] ascii = text.getBytes(StandardCharsets.US_ASCII);
    if (ascii.length + 1 > length) {
      throw new IllegalArgumentException(
          "line '" + text + "' does not fit in " + length + " bytes");
    }
    byte[] line = new byte[length];
    System.arraycopy(ascii, 0, line, 0, ascii.length);
    for (int i = ascii.length; i < length - 1; i++) {
      line[i] = ' ';
    }
    line[length - 1] = '\n';
    return line;
  }
}
