package dev.lineserver.internal;

import java.util.SplittableRandom;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Newline scan candidates on the incubating Vector API, for {@link VectorScanBenchmark} only: a JVM
 * must be started with {@code --add-modules jdk.incubator.vector} to load this class, which is why
 * the server cannot use it as is. Contract of {@link Bytes#indexOf}; the last bytes, fewer than one
 * vector, are read one at a time. Each method names its species as a constant: the JIT turns vector
 * operations into instructions only when it knows the species.
 *
 * <p>The tails do not call {@link Bytes#indexOf}: scans of a few bytes would enter its profile,
 * which C2 shares between all callers, and slow down the SWAR baseline measured beside (from about
 * 16 to about 9 GB/s in smoke runs).
 */
final class VectorScan {
  private static final VectorSpecies<Byte> PREFERRED = ByteVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Byte> BITS_256 = ByteVector.SPECIES_256;

  private VectorScan() {}

  /** The widest vectors the JVM offers: 64 bytes with AVX-512, 32 with AVX2, 16 with NEON. */
  static int indexOfPreferred(byte[] array, int from, int to, byte value) {
    int i = from;
    for (int last = to - PREFERRED.length(); i <= last; i += PREFERRED.length()) {
      VectorMask<Byte> found = ByteVector.fromArray(PREFERRED, array, i).eq(value);
      if (found.anyTrue()) {
        return i + found.firstTrue();
      }
    }
    return ScanCandidates.plainLoop(array, i, to, value);
  }

  /** 32-byte vectors, the AVX2 width. */
  static int indexOf256(byte[] array, int from, int to, byte value) {
    int i = from;
    for (int last = to - BITS_256.length(); i <= last; i += BITS_256.length()) {
      VectorMask<Byte> found = ByteVector.fromArray(BITS_256, array, i).eq(value);
      if (found.anyTrue()) {
        return i + found.firstTrue();
      }
    }
    return ScanCandidates.plainLoop(array, i, to, value);
  }

  /** Compares both scans with the plain loop on random input; throws on the first difference. */
  static void check(long cases, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    for (long c = 0; c < cases; c++) {
      byte value = random.nextBoolean() ? (byte) '\n' : (byte) random.nextInt(256);
      byte[] array = new byte[random.nextInt(400)];
      int density = 1 + random.nextInt(128);
      for (int i = 0; i < array.length; i++) {
        array[i] = random.nextInt(density) == 0 ? value : (byte) random.nextInt(256);
      }
      int from = random.nextInt(array.length + 1);
      int to = from + random.nextInt(array.length - from + 1);
      int expected = ScanCandidates.plainLoop(array, from, to, value);
      if (indexOfPreferred(array, from, to, value) != expected
          || indexOf256(array, from, to, value) != expected) {
        throw new IllegalStateException(
            "VectorScan differs from the plain loop: seed " + seed + ", case " + c);
      }
    }
  }
}
