package dev.lineserver.internal;

import dev.lineserver.benchmarks.jmh.TelemetryLines;
import java.nio.ByteBuffer;
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
 * {@link ScanBenchmark}'s newline scan with the incubating Vector API ({@link VectorScan}) beside
 * {@link Bytes#indexOf} (SWAR) in the same JVM. Meant for JDK 21 or later, where the API compiles
 * to vector instructions; it runs on JDK 17 too (the module incubates there as well), usually much
 * slower. The forks get {@code --add-modules=jdk.incubator.vector}; run with a JDK of choice:
 *
 * <pre>{@code
 * /usr/lib/jvm/temurin-25-jdk-amd64/bin/java -jar line-server-benchmarks/target/benchmarks.jar \
 *     VectorScanBenchmark -rf json -rff vector-scan.json
 * }</pre>
 *
 * <p>Input, units and working sets as in {@link ScanBenchmark}: 512-byte lines, ops/us is MB/s.
 * Setup checks both vector scans against the plain loop on random input, then that each method
 * finds every LF.
 *
 * <p><b>Run time.</b> 3 methods x 2 working sets = 6 benchmarks, 2 forks of 2 x 1 s warmup + 4 x 1
 * s measurement each: about 1.5 minutes.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@OperationsPerInvocation(VectorScanBenchmark.BYTES_PER_INVOCATION)
@Fork(value = 2, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 4, time = 1)
public class VectorScanBenchmark {
  static final int BYTES_PER_INVOCATION = 1 << 20;

  private static final byte LF = '\n';

  /** Bytes per line, including the LF. */
  @Param({"512"})
  int lineLength;

  /** Bytes scanned before starting over; must divide 1 MiB. */
  @Param({"65536", "1048576"})
  int workingSet;

  private byte[] data = new byte[0];
  private ByteBuffer direct = ByteBuffer.allocateDirect(0);
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
    VectorScan.check(20_000, 11);
    data = TelemetryLines.lines(lineLength, workingSet / lineLength, new SplittableRandom(3));
    direct = ByteBuffer.allocateDirect(data.length).put(data).clear();
    rounds = BYTES_PER_INVOCATION / workingSet;
    int lines = BYTES_PER_INVOCATION / lineLength;
    if (swar() != lines || vectorPreferred() != lines || vector256() != lines) {
      throw new IllegalStateException("VectorScanBenchmark setup: a scan missed an LF");
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
  public int vectorPreferred() {
    int lines = 0;
    byte[] a = data;
    for (int r = rounds; r > 0; r--) {
      for (int lf = VectorScan.indexOfPreferred(a, 0, a.length, LF);
          lf >= 0;
          lf = VectorScan.indexOfPreferred(a, lf + 1, a.length, LF)) {
        lines++;
      }
    }
    return lines;
  }

  @Benchmark
  public int vector256() {
    int lines = 0;
    byte[] a = data;
    for (int r = rounds; r > 0; r--) {
      for (int lf = VectorScan.indexOf256(a, 0, a.length, LF);
          lf >= 0;
          lf = VectorScan.indexOf256(a, lf + 1, a.length, LF)) {
        lines++;
      }
    }
    return lines;
  }
}
