package dev.lineserver.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Finds a byte in a buffer, heap or direct, eight bytes at a time (SWAR): each step loads one
 * little-endian long and tests all its bytes with a few arithmetic operations, so the scan does not
 * branch per byte. Its one caller is the line buffer's scan: the JIT keeps one profile per method,
 * and other callers' short searches would slow the scan down.
 */
final class Bytes {
  private static final VarHandle ARRAY_LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle BUFFER_LONGS =
      MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long ONES = 0x0101010101010101L;
  private static final long HIGHS = 0x8080808080808080L;

  private Bytes() {}

  /**
   * The absolute index of the first {@code value} in {@code buffer[from, to)}, or -1. A heap buffer
   * is scanned through its array, which C2 compiles to faster code than the buffer view (16.6
   * against 10.3 GB/s in {@code ScanBenchmark}).
   */
  static int indexOf(ByteBuffer buffer, int from, int to, byte value) {
    if (buffer.hasArray()) {
      int offset = buffer.arrayOffset();
      int found = indexOf(buffer.array(), offset + from, offset + to, value);
      return found < 0 ? -1 : found - offset;
    }
    long pattern = (value & 0xFFL) * ONES;
    int i = from;
    for (int last = to - Long.BYTES; i <= last; i += Long.BYTES) {
      long zeros = zeros((long) BUFFER_LONGS.get(buffer, i) ^ pattern);
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

  private static int indexOf(byte[] array, int from, int to, byte value) {
    long pattern = (value & 0xFFL) * ONES;
    int i = from;
    for (int last = to - Long.BYTES; i <= last; i += Long.BYTES) {
      long zeros = zeros((long) ARRAY_LONGS.get(array, i) ^ pattern);
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
   * A byte of {@code word} that is 0 gets its high bit set; the lowest set high bit marks the first
   * such byte. Bits above a zero byte may be set by the borrow, never those below it.
   */
  private static long zeros(long word) {
    return (word - ONES) & ~word & HIGHS;
  }
}
