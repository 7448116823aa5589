package dev.lineserver.benchmarks;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;

import dev.lineserver.internal.LineBuffer;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * Throughput of {@link LineBuffer} splitting in-memory input into lines, with no sockets, threads
 * or sinks involved: an upper bound for one connection's line splitting, not a server benchmark.
 *
 * <p><b>Input.</b> One invocation feeds {@link #BYTES_PER_INVOCATION} (1 MiB) of ASCII lines that
 * look like vehicle telemetry CSV, each exactly {@code lineLength} bytes including its LF, in
 * {@code chunkSize} pieces, calling {@code next()} until {@code NONE} after each piece. Socket
 * reads do not end on line boundaries, and with these power-of-two sizes aligned cuts would never
 * exercise the partial-line copy; so the line grid is shifted by {@link #CUT_BEFORE_LF} bytes
 * against the chunk grid: every chunk ends inside a line, which is kept and completed by the next
 * chunk (the next invocation for the last one). The {@link LineBuffer} lives for the whole trial,
 * like a connection's; every invocation delivers exactly {@code 1 MiB / lineLength} lines. {@link
 * #setUp} checks that once before measuring.
 *
 * <ul>
 *   <li>{@link #split}: each line's view (array, start, length) goes to the {@link Blackhole}.
 *   <li>{@link #splitAndDecode}: each line is also decoded the way the server hands it to a sink,
 *       {@code new String(array, start, length, UTF_8)}; the content is ASCII, so this takes the
 *       JDK's ASCII fast path.
 * </ul>
 *
 * <p><b>Units.</b> {@code @OperationsPerInvocation} counts one operation per input byte and the
 * output unit is microseconds, so the score, printed as {@code ops/us}, is bytes per microsecond,
 * that is MB/s (10<sup>6</sup> B/s). Divide by 1000 for GB/s; divide by {@code lineLength} for
 * lines per microsecond.
 *
 * <p><b>Run time.</b> 2 methods x 4 line lengths x 2 chunk sizes = 16 benchmarks, each run in 2
 * forks of 3 x 1 s warmup + 5 x 1 s measurement: about 8.5 s per fork with JVM start (measured on a
 * 2-core machine), so about 4.5 minutes for the 32 forks. Full run, from the project root after
 * {@code ./mvnw -B -pl line-server-benchmarks package}:
 *
 * <pre>{@code
 * java -jar line-server-benchmarks/target/benchmarks.jar LineBufferBenchmark -rf json -rff lb.json
 * }</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@OperationsPerInvocation(LineBufferBenchmark.BYTES_PER_INVOCATION)
@Fork(2)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class LineBufferBenchmark {
  /** Input bytes split by one benchmark invocation: 1 MiB. */
  static final int BYTES_PER_INVOCATION = 1 << 20;

  /** Each chunk ends this many bytes before the next LF (or earlier, for lines longer than it). */
  static final int CUT_BEFORE_LF = 7;

  /** The server's default {@code maxLineLength}. */
  private static final int MAX_LINE_LENGTH = 64 * 1024;

  /** Bytes per line, including the LF; must divide 1 MiB. */
  @Param({"16", "64", "512", "4096"})
  int lineLength;

  /** Bytes per {@code feed}; must divide 1 MiB. */
  @Param({"1024", "65536"})
  int chunkSize;

  private byte[] input = new byte[0];
  private LineBuffer buffer = new LineBuffer(MAX_LINE_LENGTH);

  @Setup(Level.Trial)
  public void setUp() {
    if (lineLength <= CUT_BEFORE_LF
        || lineLength - 1 > MAX_LINE_LENGTH
        || BYTES_PER_INVOCATION % lineLength != 0) {
      throw new IllegalArgumentException(
          "lineLength: "
              + lineLength
              + " (expected: a divisor of 1 MiB above "
              + CUT_BEFORE_LF
              + ")");
    }
    if (chunkSize < 1 || BYTES_PER_INVOCATION % chunkSize != 0) {
      throw new IllegalArgumentException(
          "chunkSize: " + chunkSize + " (expected: a divisor of 1 MiB)");
    }
    byte[] lines = lines(lineLength, BYTES_PER_INVOCATION / lineLength, new SplittableRandom(42));
    // Rotate so the input starts with the last CUT_BEFORE_LF bytes of a line and ends with the
    // rest of the next one: the stream repeats seamlessly from one invocation to the next.
    int shift = lineLength - CUT_BEFORE_LF;
    input = new byte[BYTES_PER_INVOCATION];
    System.arraycopy(lines, shift, input, 0, BYTES_PER_INVOCATION - shift);
    System.arraycopy(lines, 0, input, BYTES_PER_INVOCATION - shift, shift);

    buffer = new LineBuffer(MAX_LINE_LENGTH);
    buffer.feed(input, BYTES_PER_INVOCATION - shift, shift);
    check(buffer.next() == LineBuffer.NONE && buffer.bufferedBytes() == shift, "priming");
    for (int round = 0; round < 2; round++) {
      check(countLines() == BYTES_PER_INVOCATION / lineLength, "lines per invocation");
      check(buffer.bufferedBytes() == shift, "partial line after an invocation");
    }
  }

  @Benchmark
  public void split(Blackhole bh) {
    LineBuffer buf = buffer;
    byte[] in = input;
    int step = chunkSize;
    for (int off = 0; off < in.length; off += step) {
      buf.feed(in, off, step);
      int event;
      while ((event = buf.next()) != LineBuffer.NONE) {
        if (event == LineBuffer.LINE) {
          bh.consume(buf.lineArray());
          bh.consume(buf.lineStart());
          bh.consume(buf.lineLength());
        } else {
          bh.consume(buf.tooLongLength());
        }
      }
    }
  }

  @Benchmark
  public void splitAndDecode(Blackhole bh) {
    LineBuffer buf = buffer;
    byte[] in = input;
    int step = chunkSize;
    for (int off = 0; off < in.length; off += step) {
      buf.feed(in, off, step);
      int event;
      while ((event = buf.next()) != LineBuffer.NONE) {
        if (event == LineBuffer.LINE) {
          bh.consume(new String(buf.lineArray(), buf.lineStart(), buf.lineLength(), UTF_8));
        } else {
          bh.consume(buf.tooLongLength());
        }
      }
    }
  }

  /** Runs one invocation's input through the buffer; returns the lines, each checked for length. */
  private int countLines() {
    int count = 0;
    for (int off = 0; off < input.length; off += chunkSize) {
      buffer.feed(input, off, chunkSize);
      int event;
      while ((event = buffer.next()) != LineBuffer.NONE) {
        check(event == LineBuffer.LINE, "event " + event);
        check(buffer.lineLength() == lineLength - 1, "line length " + buffer.lineLength());
        count++;
      }
    }
    return count;
  }

  /**
   * Returns {@code count} lines of exactly {@code length} bytes each, LF included: CSV records
   * ({@code vehicle,epoch millis,lat,lon,speed,heading}) joined by commas and cut to length.
   */
  static byte[] lines(int length, int count, SplittableRandom random) {
    byte[] out = new byte[length * count];
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

  private static void check(boolean condition, String what) {
    if (!condition) {
      throw new IllegalStateException("LineBufferBenchmark setup check failed: " + what);
    }
  }
}
