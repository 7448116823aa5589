package dev.lineserver.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

/**
 * Randomized equivalence check of {@link Bytes#indexOf} and every {@link ScanCandidates} scan
 * against the plain loop; exits 1 on the first difference, printing the seed and the case. Run:
 *
 * <pre>{@code
 * java -cp line-server-benchmarks/target/benchmarks.jar dev.lineserver.internal.ScanCheck \
 *     [cases, default 2000000] [seed, default random]
 * }</pre>
 *
 * <p>Arrays of 0 to 300 bytes mix the sought value with its neighbours ({@code v - 1}, {@code v +
 * 1}, {@code v ^ 0x80}), 0x00, 0x01, 0x7F, 0x80, 0xFF and random bytes, the bytes where a SWAR test
 * goes wrong if it lets a borrow or a high bit leak; values are LF half the time, else random.
 */
public final class ScanCheck {
  private interface Scan {
    int indexOf(byte[] array, int from, int to, byte value);
  }

  private ScanCheck() {}

  public static void main(String[] args) {
    long cases = args.length > 0 ? Long.parseLong(args[0]) : 2_000_000L;
    long seed = args.length > 1 ? Long.parseLong(args[1]) : new SplittableRandom().nextLong();
    String[] names = {
      "Bytes.indexOf",
      "swarLf",
      "swarArray",
      "swarUnrolled2",
      "swarUnrolled4",
      "swarExact",
      "byteBufferSwar"
    };
    Scan[] scans = {
      (array, from, to, value) -> Bytes.indexOf(direct(array), from, to, value),
      (array, from, to, value) ->
          value == '\n'
              ? ScanCandidates.swarLf(direct(array), from, to)
              : ScanCandidates.plainLoop(array, from, to, value),
      ScanCandidates::swarArray,
      ScanCandidates::swarUnrolled2,
      ScanCandidates::swarUnrolled4,
      ScanCandidates::swarExact,
      (array, from, to, value) ->
          ScanCandidates.byteBufferSwar(
              ByteBuffer.wrap(array).order(ByteOrder.LITTLE_ENDIAN), from, to, value)
    };
    SplittableRandom random = new SplittableRandom(seed);
    for (long c = 0; c < cases; c++) {
      byte value = random.nextBoolean() ? (byte) '\n' : (byte) random.nextInt(256);
      byte[] array = new byte[random.nextInt(301)];
      int density = 1 + random.nextInt(64);
      for (int i = 0; i < array.length; i++) {
        array[i] = pick(random, value, density);
      }
      int from = random.nextInt(array.length + 1);
      int to = from + random.nextInt(array.length - from + 1);
      int expected = ScanCandidates.plainLoop(array, from, to, value);
      for (int s = 0; s < scans.length; s++) {
        int actual = scans[s].indexOf(array, from, to, value);
        if (actual != expected) {
          System.out.printf(
              "MISMATCH seed=%d case=%d %s: from=%d to=%d value=0x%02x got %d, expected %d%n"
                  + "array=%s%n",
              seed, c, names[s], from, to, value & 0xFF, actual, expected, hex(array));
          System.exit(1);
        }
      }
    }
    System.out.printf(
        "ScanCheck: %d cases, seed %d: all %d scans agree%n", cases, seed, scans.length);
  }

  private static ByteBuffer direct(byte[] array) {
    return ByteBuffer.allocateDirect(array.length).put(array).clear();
  }

  /** A byte that is {@code value} about once in {@code density} bytes, else a tricky neighbour. */
  private static byte pick(SplittableRandom random, byte value, int density) {
    if (random.nextInt(density) == 0) {
      return value;
    }
    return switch (random.nextInt(9)) {
      case 0 -> (byte) (value - 1);
      case 1 -> (byte) (value + 1);
      case 2 -> (byte) (value ^ 0x80);
      case 3 -> 0;
      case 4 -> 1;
      case 5 -> 0x7F;
      case 6 -> (byte) 0x80;
      case 7 -> (byte) 0xFF;
      default -> (byte) random.nextInt(256);
    };
  }

  private static String hex(byte[] array) {
    StringBuilder out = new StringBuilder(array.length * 3);
    for (byte b : array) {
      out.append(String.format("%02x ", b & 0xFF));
    }
    return out.toString().trim();
  }
}
