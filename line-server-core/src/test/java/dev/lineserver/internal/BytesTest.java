package dev.lineserver.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

final class BytesTest {

  /** Searches a direct copy of {@code array}, as the server's reads are. */
  private static int indexOf(byte[] array, int from, int to, byte value) {
    ByteBuffer direct = ByteBuffer.allocateDirect(array.length).put(array);
    int found = Bytes.indexOf(direct, from, to, value);
    assertThat(Bytes.indexOf(ByteBuffer.wrap(array), from, to, value)).isEqualTo(found);
    return found;
  }

  private static int naive(byte[] array, int from, int to, byte value) {
    for (int i = from; i < to; i++) {
      if (array[i] == value) {
        return i;
      }
    }
    return -1;
  }

  @Test
  void indexOf_everyPositionInAWord_isFound() {
    for (int length = 0; length <= 40; length++) {
      for (int at = 0; at < length; at++) {
        byte[] array = new byte[length];
        array[at] = '\n';
        assertThat(indexOf(array, 0, length, (byte) '\n')).as("%d in %d", at, length).isEqualTo(at);
      }
      assertThat(indexOf(new byte[length], 0, length, (byte) '\n')).isEqualTo(-1);
    }
  }

  @Test
  void indexOf_highBytesAndBorrows_neverGiveAFalseMatch() {
    // 0x0B - 1 = 0x0A and 0x8A, 0xFF, 0x00 around the target probe the borrow and sign cases.
    byte[] tricky = {0x0B, (byte) 0x8A, (byte) 0xFF, 0x00, 0x09, 0x0B, (byte) 0x80, 0x01, 0x0A};
    assertThat(indexOf(tricky, 0, tricky.length, (byte) '\n')).isEqualTo(8);
    byte[] zeros = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    assertThat(indexOf(zeros, 0, zeros.length, (byte) 0)).isEqualTo(1);
    byte[] high = {5, 5, 5, (byte) 0xFF, 5, 5, 5, 5, 5};
    assertThat(indexOf(high, 0, high.length, (byte) 0xFF)).isEqualTo(3);
  }

  @Test
  void indexOf_randomArraysRangesAndValues_matchTheNaiveScan() {
    long seed = 0xB17E5L;
    SplittableRandom random = new SplittableRandom(seed);
    for (int round = 0; round < 20_000; round++) {
      byte[] array = new byte[random.nextInt(64)];
      for (int i = 0; i < array.length; i++) {
        array[i] = (byte) random.nextInt(random.nextBoolean() ? 4 : 256);
      }
      int from = array.length == 0 ? 0 : random.nextInt(array.length + 1);
      int to = from + random.nextInt(array.length - from + 1);
      byte value = (byte) random.nextInt(random.nextBoolean() ? 4 : 256);
      assertThat(indexOf(array, from, to, value))
          .as("seed %d round %d", seed, round)
          .isEqualTo(naive(array, from, to, value));
    }
  }
}
