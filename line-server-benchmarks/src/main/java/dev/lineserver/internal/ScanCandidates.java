package dev.lineserver.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Alternatives to {@link Bytes#indexOf} for {@link ScanBenchmark}, each with its contract: the
 * index of the first {@code value} in {@code array[from, to)}, or -1. {@link ScanCheck} compares
 * them with {@link #plainLoop} on random input. Benchmark code only; nothing here is used by the
 * server.
 */
final class ScanCandidates {
  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle BUFFER_LONGS =
      MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long ONES = 0x0101010101010101L;
  private static final long HIGHS = 0x8080808080808080L;
  private static final long LOWS = 0x7F7F7F7F7F7F7F7FL;

  private ScanCandidates() {}

  /**
   * {@link Bytes#indexOf} copied, for LF only: the same code in a method of its own, so that its
   * profile holds only newline scans, whatever other callers do with {@link Bytes#indexOf}.
   */
  static int swarLf(ByteBuffer buffer, int from, int to) {
    long pattern = ('\n' & 0xFFL) * ONES;
    int i = from;
    for (int last = to - Long.BYTES; i <= last; i += Long.BYTES) {
      long word = (long) BUFFER_LONGS.get(buffer, i) ^ pattern;
      long zeros = (word - ONES) & ~word & HIGHS;
      if (zeros != 0) {
        return i + (Long.numberOfTrailingZeros(zeros) >>> 3);
      }
    }
    for (; i < to; i++) {
      if (buffer.get(i) == '\n') {
        return i;
      }
    }
    return -1;
  }

  /**
   * {@link Bytes#indexOf}'s SWAR on a {@code byte[]} through a {@code byteArrayViewVarHandle}: the
   * server's scan while it read sockets into a heap array.
   */
  static int swarArray(byte[] array, int from, int to, byte value) {
    long pattern = (value & 0xFFL) * ONES;
    int i = from;
    for (int last = to - Long.BYTES; i <= last; i += Long.BYTES) {
      long word = (long) LONGS.get(array, i) ^ pattern;
      long zeros = (word - ONES) & ~word & HIGHS;
      if (zeros != 0) {
        return i + (Long.numberOfTrailingZeros(zeros) >>> 3);
      }
    }
    for (; i < to; i++) {
      if (array[i] == value) {
        return i;
      }
    }
    return -1;
  }

  /**
   * {@link #swarUnrolled4} on a buffer, heap or direct, through a {@code byteBufferViewVarHandle}:
   * four loads per bounds-and-scope check of the loop instead of one.
   */
  static int bufferUnrolled4(ByteBuffer buffer, int from, int to, byte value) {
    long pattern = (value & 0xFFL) * ONES;
    int i = from;
    for (int last = to - 4 * Long.BYTES; i <= last; i += 4 * Long.BYTES) {
      long w0 = (long) BUFFER_LONGS.get(buffer, i) ^ pattern;
      long w1 = (long) BUFFER_LONGS.get(buffer, i + Long.BYTES) ^ pattern;
      long w2 = (long) BUFFER_LONGS.get(buffer, i + 2 * Long.BYTES) ^ pattern;
      long w3 = (long) BUFFER_LONGS.get(buffer, i + 3 * Long.BYTES) ^ pattern;
      long z0 = (w0 - ONES) & ~w0 & HIGHS;
      long z1 = (w1 - ONES) & ~w1 & HIGHS;
      long z2 = (w2 - ONES) & ~w2 & HIGHS;
      long z3 = (w3 - ONES) & ~w3 & HIGHS;
      if ((z0 | z1 | z2 | z3) != 0) {
        if (z0 != 0) {
          return i + (Long.numberOfTrailingZeros(z0) >>> 3);
        }
        if (z1 != 0) {
          return i + Long.BYTES + (Long.numberOfTrailingZeros(z1) >>> 3);
        }
        if (z2 != 0) {
          return i + 2 * Long.BYTES + (Long.numberOfTrailingZeros(z2) >>> 3);
        }
        return i + 3 * Long.BYTES + (Long.numberOfTrailingZeros(z3) >>> 3);
      }
    }
    for (int last = to - Long.BYTES; i <= last; i += Long.BYTES) {
      long word = (long) BUFFER_LONGS.get(buffer, i) ^ pattern;
      long zeros = (word - ONES) & ~word & HIGHS;
      if (zeros != 0) {
        return i + (Long.numberOfTrailingZeros(zeros) >>> 3);
      }
    }
    for (; i < to; i++) {
      if (buffer.get(i) == value) {
        return i;
      }
    }
    return -1;
  }

  /** One byte per step: the reference, and what C2 makes of the obvious loop. */
  static int plainLoop(byte[] array, int from, int to, byte value) {
    for (int i = from; i < to; i++) {
      if (array[i] == value) {
        return i;
      }
    }
    return -1;
  }

  /**
   * {@link Bytes#indexOf}'s SWAR test on two longs per step, one branch per 16 bytes: both zero
   * masks are computed, OR-ed and tested once. Each mask's lowest set bit is exact on its own, so
   * the first mask that is not zero gives the index.
   */
  static int swarUnrolled2(byte[] array, int from, int to, byte value) {
    long pattern = (value & 0xFFL) * ONES;
    int i = from;
    for (int last = to - 2 * Long.BYTES; i <= last; i += 2 * Long.BYTES) {
      long w0 = (long) LONGS.get(array, i) ^ pattern;
      long w1 = (long) LONGS.get(array, i + Long.BYTES) ^ pattern;
      long z0 = (w0 - ONES) & ~w0 & HIGHS;
      long z1 = (w1 - ONES) & ~w1 & HIGHS;
      if ((z0 | z1) != 0) {
        return z0 != 0
            ? i + (Long.numberOfTrailingZeros(z0) >>> 3)
            : i + Long.BYTES + (Long.numberOfTrailingZeros(z1) >>> 3);
      }
    }
    return tail(array, i, to, value, pattern);
  }

  /** As {@link #swarUnrolled2}, four longs (32 bytes) per step. */
  static int swarUnrolled4(byte[] array, int from, int to, byte value) {
    long pattern = (value & 0xFFL) * ONES;
    int i = from;
    for (int last = to - 4 * Long.BYTES; i <= last; i += 4 * Long.BYTES) {
      long w0 = (long) LONGS.get(array, i) ^ pattern;
      long w1 = (long) LONGS.get(array, i + Long.BYTES) ^ pattern;
      long w2 = (long) LONGS.get(array, i + 2 * Long.BYTES) ^ pattern;
      long w3 = (long) LONGS.get(array, i + 3 * Long.BYTES) ^ pattern;
      long z0 = (w0 - ONES) & ~w0 & HIGHS;
      long z1 = (w1 - ONES) & ~w1 & HIGHS;
      long z2 = (w2 - ONES) & ~w2 & HIGHS;
      long z3 = (w3 - ONES) & ~w3 & HIGHS;
      if ((z0 | z1 | z2 | z3) != 0) {
        if (z0 != 0) {
          return i + (Long.numberOfTrailingZeros(z0) >>> 3);
        }
        if (z1 != 0) {
          return i + Long.BYTES + (Long.numberOfTrailingZeros(z1) >>> 3);
        }
        if (z2 != 0) {
          return i + 2 * Long.BYTES + (Long.numberOfTrailingZeros(z2) >>> 3);
        }
        return i + 3 * Long.BYTES + (Long.numberOfTrailingZeros(z3) >>> 3);
      }
    }
    return tail(array, i, to, value, pattern);
  }

  /**
   * One long per step with the exact zero-byte test Netty's {@code SWARUtil} uses: {@code ~((w &
   * 0x7F..) + 0x7F.. | w | 0x7F..)} has the high bit set in exactly the zero bytes, no borrow
   * between bytes. One more operation than {@link Bytes#indexOf}'s test.
   */
  static int swarExact(byte[] array, int from, int to, byte value) {
    long pattern = (value & 0xFFL) * ONES;
    int i = from;
    for (int last = to - Long.BYTES; i <= last; i += Long.BYTES) {
      long word = (long) LONGS.get(array, i) ^ pattern;
      long zeros = ~((word & LOWS) + LOWS | word | LOWS);
      if (zeros != 0) {
        return i + (Long.numberOfTrailingZeros(zeros) >>> 3);
      }
    }
    for (; i < to; i++) {
      if (array[i] == value) {
        return i;
      }
    }
    return -1;
  }

  /**
   * {@link Bytes#indexOf}'s loop reading through a little-endian heap {@link ByteBuffer} over the
   * array instead of a {@link VarHandle}: {@code buffer.getLong(i)} per step.
   */
  static int byteBufferSwar(ByteBuffer buffer, int from, int to, byte value) {
    long pattern = (value & 0xFFL) * ONES;
    int i = from;
    for (int last = to - Long.BYTES; i <= last; i += Long.BYTES) {
      long word = buffer.getLong(i) ^ pattern;
      long zeros = (word - ONES) & ~word & HIGHS;
      if (zeros != 0) {
        return i + (Long.numberOfTrailingZeros(zeros) >>> 3);
      }
    }
    for (; i < to; i++) {
      if (buffer.get(i) == value) {
        return i;
      }
    }
    return -1;
  }

  /** Finishes an unrolled SWAR scan: one long at a time, then single bytes. */
  private static int tail(byte[] array, int i, int to, byte value, long pattern) {
    for (int last = to - Long.BYTES; i <= last; i += Long.BYTES) {
      long word = (long) LONGS.get(array, i) ^ pattern;
      long zeros = (word - ONES) & ~word & HIGHS;
      if (zeros != 0) {
        return i + (Long.numberOfTrailingZeros(zeros) >>> 3);
      }
    }
    for (; i < to; i++) {
      if (array[i] == value) {
        return i;
      }
    }
    return -1;
  }
}
