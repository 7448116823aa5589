package dev.lineserver.internal;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import dev.lineserver.benchmarks.jmh.TelemetryLines;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The newline scan alone: every LF of a buffer of {@code lineLength}-byte lines found by calling a
 * scan from just past the previous LF to the end of the buffer, as {@link LineBuffer#next} does;
 * nothing else of the line buffer. Lives in {@code dev.lineserver.internal} for the package-private
 * {@link Bytes}.
 *
 * <ul>
 *   <li>{@link #swar}: {@link Bytes#indexOf}, the server's scan (one long per step), on a direct
 *       buffer as the server reads into.
 *   <li>{@link #swarArray}: the same SWAR on a {@code byte[]}, the server's scan while it read into
 *       a heap array.
 *   <li>{@link #swarUnrolled2}, {@link #swarUnrolled4}, {@link #swarExact}, {@link
 *       #byteBufferSwar}, {@link #plainLoop}: the candidates in {@link ScanCandidates}.
 *   <li>{@link #swarAfterShortScans}: {@link #swar} in a JVM where {@link Bytes#indexOf} was first
 *       called on many short ranges ({@link ShortScans}), as a byte sink's {@code line.indexOf}
 *       does; C2 keeps one profile per method, shared by all callers, and compiles the LF scan with
 *       it. {@link #swarLfAfterShortScans}: the same short scans, then the LF scan through {@link
 *       ScanCandidates#swarLf}, an identical copy of {@link Bytes#indexOf} that only the LF scan
 *       calls.
 *   <li>{@link #latin1String}: a reference, not a candidate: {@code String.indexOf('\n', from)} on
 *       a Latin-1 String made once from the buffer in setup, that is the JDK's vectorized intrinsic
 *       ({@code StringLatin1.indexOfChar}) without the copy it would need.
 *   <li>{@link #latin1StringPerRead}: the same with that copy, one Latin-1 String per 64 KiB (a
 *       read's worth) made in the measured loop: what the intrinsic costs a byte-array scanner that
 *       copies each read once (and allocates 64 KiB per read).
 * </ul>
 *
 * <p><b>Input.</b> A working set of {@code workingSet} bytes (64 KiB, the server's read buffer, in
 * L2; 1 MiB, as {@code SplitBenchmark} cycles through) of ASCII telemetry CSV lines; one invocation
 * scans 1 MiB, that is the working set {@code 1 MiB / workingSet} times. Setup checks that every
 * method finds every LF.
 *
 * <p><b>Units.</b> One operation is one byte scanned; ops/us is MB/s, divide by 1000 for GB/s.
 *
 * <p><b>Run time.</b> 11 methods x 2 working sets = 22 benchmarks, each in 2 forks of 2 x 1 s
 * warmup + 4 x 1 s measurement, about 7 s per fork: about 5 minutes on a 2-core machine:
 *
 * <pre>{@code
 * java -jar line-server-benchmarks/target/benchmarks.jar 'internal.ScanBenchmark' -rf json -rff scan.json
 * }</pre>
 *
 * Other line lengths (any power of two from 16 up to {@code workingSet}): {@code -p
 * lineLength=64,4096}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@OperationsPerInvocation(ScanBenchmark.BYTES_PER_INVOCATION)
@Fork(2)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 4, time = 1)
public class ScanBenchmark {
  static final int BYTES_PER_INVOCATION = 1 << 20;

  private static final byte LF = '\n';

  /** Bytes per String in {@link #latin1StringPerRead}: the server's read buffer size. */
  private static final int READ_SIZE = 64 * 1024;

  /** Bytes per line, including the LF. */
  @Param({"512"})
  int lineLength;

  /** Bytes scanned before starting over; must divide 1 MiB. */
  @Param({"65536", "1048576"})
  int workingSet;

  private byte[] data = new byte[0];
  private ByteBuffer direct = ByteBuffer.allocateDirect(0);
  private ByteBuffer directLittleEndian = ByteBuffer.allocateDirect(0);
  private ByteBuffer buffer = ByteBuffer.allocate(0);
  private String latin1 = "";
  private int rounds;

  @Setup(Level.Trial)
  public void setUp() {
    if (workingSet < 1 || BYTES_PER_INVOCATION % workingSet != 0) {
      throw new IllegalArgumentException(
          "workingSet: " + workingSet + " (expected: a divisor of 1 MiB)");
    }
    if (lineLength < 2 || workingSet % lineLength != 0) {
      throw new IllegalArgumentException(
          "lineLength: " + lineLength + " (expected: a divisor of " + workingSet + ")");
    }
    data = TelemetryLines.lines(lineLength, workingSet / lineLength, new SplittableRandom(3));
    buffer = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    direct = ByteBuffer.allocateDirect(data.length).put(data).clear();
    directLittleEndian = direct.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    latin1 = new String(data, ISO_8859_1);
    rounds = BYTES_PER_INVOCATION / workingSet;
    int lines = BYTES_PER_INVOCATION / lineLength;
    int[] found = {
      swar(),
      swarArray(),
      bufferUnrolled4(),
      directGetLong(),
      swarUnrolled2(),
      swarUnrolled4(),
      swarExact(),
      byteBufferSwar(),
      plainLoop(),
      latin1String(),
      latin1StringPerRead()
    };
    for (int count : found) {
      if (count != lines) {
        throw new IllegalStateException(
            "ScanBenchmark setup: found " + count + " LFs (expected: " + lines + ")");
      }
    }
  }

  @Benchmark
  public int swar() {
    int lines = 0;
    ByteBuffer d = direct;
    int end = d.limit();
    for (int r = rounds; r > 0; r--) {
      for (int lf = Bytes.indexOf(d, 0, end, LF); lf >= 0; lf = Bytes.indexOf(d, lf + 1, end, LF)) {
        lines++;
      }
    }
    return lines;
  }

  @Benchmark
  public int bufferUnrolled4() {
    int lines = 0;
    ByteBuffer d = direct;
    int end = d.limit();
    for (int r = rounds; r > 0; r--) {
      for (int lf = ScanCandidates.bufferUnrolled4(d, 0, end, LF);
          lf >= 0;
          lf = ScanCandidates.bufferUnrolled4(d, lf + 1, end, LF)) {
        lines++;
      }
    }
    return lines;
  }

  @Benchmark
  public int directGetLong() {
    int lines = 0;
    ByteBuffer d = directLittleEndian;
    int end = d.limit();
    for (int r = rounds; r > 0; r--) {
      for (int lf = ScanCandidates.byteBufferSwar(d, 0, end, LF);
          lf >= 0;
          lf = ScanCandidates.byteBufferSwar(d, lf + 1, end, LF)) {
        lines++;
      }
    }
    return lines;
  }

  @Benchmark
  public int swarArray() {
    int lines = 0;
    byte[] a = data;
    for (int r = rounds; r > 0; r--) {
      for (int lf = ScanCandidates.swarArray(a, 0, a.length, LF);
          lf >= 0;
          lf = ScanCandidates.swarArray(a, lf + 1, a.length, LF)) {
        lines++;
      }
    }
    return lines;
  }

  @Benchmark
  public int swarAfterShortScans(ShortScans shortScans) {
    return swar() + shortScans.found;
  }

  @Benchmark
  public int swarLfAfterShortScans(ShortScans shortScans) {
    return swarLf() + shortScans.found;
  }

  /** The LF scan through {@link ScanCandidates#swarLf}; not a benchmark of its own. */
  int swarLf() {
    int lines = 0;
    ByteBuffer d = direct;
    int end = d.limit();
    for (int r = rounds; r > 0; r--) {
      for (int lf = ScanCandidates.swarLf(d, 0, end);
          lf >= 0;
          lf = ScanCandidates.swarLf(d, lf + 1, end)) {
        lines++;
      }
    }
    return lines;
  }

  /**
   * Before measuring, splits every line of the working set into its comma-separated fields with
   * {@link Bytes#indexOf} until a million searches are done, as a byte sink parsing CSV with {@code
   * line.indexOf((byte) ',', from)} would: short searches, the last of each line to its end.
   */
  @State(Scope.Thread)
  public static class ShortScans {
    int found;

    @Setup(Level.Trial)
    public void setUp(ScanBenchmark scan) {
      ByteBuffer a = scan.direct;
      int length = scan.lineLength;
      int searches = 0;
      int sum = 0;
      while (searches < 1_000_000) {
        for (int start = 0; start < a.limit(); start += length) {
          int end = start + length - 1;
          for (int from = start; ; searches++) {
            int comma = Bytes.indexOf(a, from, end, (byte) ',');
            if (comma < 0) {
              break;
            }
            sum += comma - from;
            from = comma + 1;
          }
        }
      }
      found = sum == 0 ? 1 : 0;
    }
  }

  @Benchmark
  public int swarUnrolled2() {
    int lines = 0;
    byte[] a = data;
    for (int r = rounds; r > 0; r--) {
      for (int lf = ScanCandidates.swarUnrolled2(a, 0, a.length, LF);
          lf >= 0;
          lf = ScanCandidates.swarUnrolled2(a, lf + 1, a.length, LF)) {
        lines++;
      }
    }
    return lines;
  }

  @Benchmark
  public int swarUnrolled4() {
    int lines = 0;
    byte[] a = data;
    for (int r = rounds; r > 0; r--) {
      for (int lf = ScanCandidates.swarUnrolled4(a, 0, a.length, LF);
          lf >= 0;
          lf = ScanCandidates.swarUnrolled4(a, lf + 1, a.length, LF)) {
        lines++;
      }
    }
    return lines;
  }

  @Benchmark
  public int swarExact() {
    int lines = 0;
    byte[] a = data;
    for (int r = rounds; r > 0; r--) {
      for (int lf = ScanCandidates.swarExact(a, 0, a.length, LF);
          lf >= 0;
          lf = ScanCandidates.swarExact(a, lf + 1, a.length, LF)) {
        lines++;
      }
    }
    return lines;
  }

  @Benchmark
  public int byteBufferSwar() {
    int lines = 0;
    ByteBuffer b = buffer;
    int end = b.capacity();
    for (int r = rounds; r > 0; r--) {
      for (int lf = ScanCandidates.byteBufferSwar(b, 0, end, LF);
          lf >= 0;
          lf = ScanCandidates.byteBufferSwar(b, lf + 1, end, LF)) {
        lines++;
      }
    }
    return lines;
  }

  @Benchmark
  public int plainLoop() {
    int lines = 0;
    byte[] a = data;
    for (int r = rounds; r > 0; r--) {
      for (int lf = ScanCandidates.plainLoop(a, 0, a.length, LF);
          lf >= 0;
          lf = ScanCandidates.plainLoop(a, lf + 1, a.length, LF)) {
        lines++;
      }
    }
    return lines;
  }

  @Benchmark
  public int latin1String() {
    int lines = 0;
    String s = latin1;
    for (int r = rounds; r > 0; r--) {
      for (int lf = s.indexOf(LF); lf >= 0; lf = s.indexOf(LF, lf + 1)) {
        lines++;
      }
    }
    return lines;
  }

  @Benchmark
  public int latin1StringPerRead() {
    int lines = 0;
    byte[] a = data;
    int step = Math.min(READ_SIZE, a.length);
    for (int r = rounds; r > 0; r--) {
      for (int off = 0; off < a.length; off += step) {
        String s = new String(a, off, step, ISO_8859_1);
        for (int lf = s.indexOf(LF); lf >= 0; lf = s.indexOf(LF, lf + 1)) {
          lines++;
        }
      }
    }
    return lines;
  }
}
