package dev.lineserver.internal;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.lineserver.ByteLineSink;
import dev.lineserver.ConnectionLineSink;
import dev.lineserver.benchmarks.jmh.TelemetryLines;
import java.net.InetAddress;
import java.net.InetSocketAddress;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * The two ways the server hands a line to a sink, per line, with the split in front as in {@code
 * Connection}: the String path (each read copied from the direct read buffer into the I/O thread's
 * heap buffer and split there, {@code new String(array, start, length, UTF_8)}, then a {@link
 * ConnectionLineSink}) against the zero-copy byte path (the connection's one {@link LineView} set
 * to the line, then a {@link ByteLineSink}). Lives in {@code dev.lineserver.internal} for the
 * package-private {@link LineView}.
 *
 * <p><b>Input.</b> One invocation splits {@link #LINES_PER_INVOCATION} (4096) ASCII telemetry CSV
 * lines of exactly {@code lineLength} bytes, LF included, in 64 KiB reads (whole input if smaller)
 * from a direct buffer, as the server reads sockets into, with a {@link LineBuffer} that lives for
 * the trial; the line grid is shifted against the read grid as in {@code SplitBenchmark}, so every
 * read ends inside a line. No line has a CR.
 *
 * <ul>
 *   <li>{@link #splitOnly}: each line's length to the {@link Blackhole}; the cost every path
 *       shares.
 *   <li>{@link #stringSink}: the sink gets a new String and hands it to the Blackhole (a sink that
 *       keeps or forwards it).
 *   <li>{@link #byteSink}: the sink reads {@code length()} and {@code byteAt(0)} of the view.
 *   <li>{@link #stringSinkFirstField}: the sink finds the first field, {@code indexOf(',')}.
 *   <li>{@link #byteSinkFirstField}: the sink finds the first field, {@code indexOf((byte) ',',
 *       0)}, on the view (the same SWAR scan the splitter uses).
 * </ul>
 *
 * <p><b>Units.</b> {@code @OperationsPerInvocation(4096)}: one operation is one line. Scores are ns
 * per line; with {@code -prof gc}, {@code gc.alloc.rate.norm} is bytes allocated per line (multiply
 * by 4096 for per invocation). The String path allocates a String and its byte array per line (on a
 * 64-bit JVM with compressed oops: 24 + 16 + length rounded up to 8 bytes); the byte path should
 * allocate nothing.
 *
 * <p><b>Run time.</b> 5 methods x 3 line lengths = 15 benchmarks, each in 2 forks of 2 x 1 s warmup
 * + 4 x 1 s measurement: about 7 s per fork, so about 3.5 minutes on a 2-core machine:
 *
 * <pre>{@code
 * java -jar line-server-benchmarks/target/benchmarks.jar StringVsBytesBenchmark -prof gc \
 *     -rf json -rff string-vs-bytes.json
 * }</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@OperationsPerInvocation(StringVsBytesBenchmark.LINES_PER_INVOCATION)
@Fork(2)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 4, time = 1)
public class StringVsBytesBenchmark {
  /** Lines split and handed to a sink by one invocation. */
  static final int LINES_PER_INVOCATION = 4096;

  private static final int CUT_BEFORE_LF = 7;
  private static final int READ_SIZE = 64 * 1024;
  private static final int MAX_LINE_LENGTH = 64 * 1024;

  /** Bytes per line, including the LF. */
  @Param({"16", "64", "512"})
  int lineLength;

  private byte[] input = new byte[0];
  private ByteBuffer directInput = ByteBuffer.allocateDirect(0);
  private final ByteBuffer heapCopy = ByteBuffer.allocate(READ_SIZE);
  private int readSize;
  private LineBuffer buffer = new LineBuffer(MAX_LINE_LENGTH);
  private final LineView view = new LineView(UTF_8);
  private final Peer peer =
      new Peer(
          1,
          new InetSocketAddress(InetAddress.getLoopbackAddress(), 40000),
          new InetSocketAddress(InetAddress.getLoopbackAddress(), 9),
          new Reports());
  private ConnectionLineSink keep = (connection, line) -> {};
  private ConnectionLineSink firstFieldOfString = (connection, line) -> {};
  private ByteLineSink peek = (connection, line) -> {};
  private ByteLineSink firstFieldOfBytes = (connection, line) -> {};

  @Setup(Level.Trial)
  public void setUp(Blackhole bh) {
    if (lineLength <= CUT_BEFORE_LF || lineLength - 1 > MAX_LINE_LENGTH) {
      throw new IllegalArgumentException(
          "lineLength: " + lineLength + " (expected: " + (CUT_BEFORE_LF + 1) + "..65537)");
    }
    int total = LINES_PER_INVOCATION * lineLength;
    readSize = Math.min(READ_SIZE, total);
    if (total % readSize != 0 || readSize % lineLength != 0) {
      throw new IllegalArgumentException(
          "lineLength: " + lineLength + " (expected: a power of two, for whole reads)");
    }
    int shift = lineLength - CUT_BEFORE_LF;
    input =
        TelemetryLines.rotate(
            TelemetryLines.lines(lineLength, LINES_PER_INVOCATION, new SplittableRandom(7)), shift);
    keep = (connection, line) -> bh.consume(line);
    firstFieldOfString = (connection, line) -> bh.consume(line.indexOf(','));
    peek =
        (connection, line) -> {
          bh.consume(line.length());
          bh.consume(line.byteAt(0));
        };
    firstFieldOfBytes = (connection, line) -> bh.consume(line.indexOf((byte) ',', 0));

    directInput = ByteBuffer.allocateDirect(input.length).put(input).clear();
    buffer = new LineBuffer(MAX_LINE_LENGTH);
    buffer.feed(slice(total - shift, shift));
    check(buffer.next() == LineBuffer.NONE, "priming");
    int expectedComma = lineLength - 1 > 9 ? 9 : -1;
    for (int round = 0; round < 2; round++) {
      // Not through toByteSink: its call site should see only the measured sink.
      int lines = 0;
      for (int off = 0; off < input.length; off += readSize) {
        buffer.feed(slice(off, readSize));
        int event;
        while ((event = buffer.next()) != LineBuffer.NONE) {
          check(event == LineBuffer.LINE, "event " + event);
          LineView line = view.set(buffer.lineBytes(), buffer.lineStart(), buffer.lineLength());
          check(line.length() == lineLength - 1, "line length " + line.length());
          check(line.byteAt(0) == 'v', "first byte");
          check(line.indexOf((byte) ',', 0) == expectedComma, "first comma");
          check(line.asString().indexOf(',') == expectedComma, "first comma of the String");
          lines++;
        }
      }
      check(lines == LINES_PER_INVOCATION, "lines per invocation: " + lines);
      check(buffer.bufferedBytes() == shift, "partial line after an invocation");
    }
  }

  /** {@code directInput} with {@code length} bytes from {@code offset} remaining. */
  private ByteBuffer slice(int offset, int length) {
    directInput.limit(offset + length).position(offset);
    return directInput;
  }

  @Benchmark
  public void splitOnly(Blackhole bh) {
    LineBuffer buf = buffer;
    int step = readSize;
    for (int off = 0; off < input.length; off += step) {
      buf.feed(slice(off, step));
      int event;
      while ((event = buf.next()) != LineBuffer.NONE) {
        bh.consume(event == LineBuffer.LINE ? buf.lineLength() : buf.tooLongLength());
      }
      buf.releaseIfEmpty();
    }
  }

  @Benchmark
  public void stringSink() throws Exception {
    toStringSink(keep);
  }

  @Benchmark
  public void byteSink() throws Exception {
    toByteSink(peek);
  }

  @Benchmark
  public void stringSinkFirstField() throws Exception {
    toStringSink(firstFieldOfString);
  }

  @Benchmark
  public void byteSinkFirstField() throws Exception {
    toByteSink(firstFieldOfBytes);
  }

  /** {@code Connection.received} and {@code handle} with a String sink; no line is too long. */
  private void toStringSink(ConnectionLineSink sink) throws Exception {
    LineBuffer buf = buffer;
    int step = readSize;
    for (int off = 0; off < input.length; off += step) {
      heapCopy.clear();
      heapCopy.put(slice(off, step)).flip();
      buf.feed(heapCopy);
      while (buf.next() == LineBuffer.LINE) {
        sink.accept(
            peer, LineView.decode(buf.lineBytes(), buf.lineStart(), buf.lineLength(), UTF_8));
      }
      buf.releaseIfEmpty();
    }
  }

  /** {@code Connection.received} and {@code handle} with a byte sink; no line is too long. */
  private void toByteSink(ByteLineSink sink) throws Exception {
    LineBuffer buf = buffer;
    LineView line = view;
    int step = readSize;
    for (int off = 0; off < input.length; off += step) {
      buf.feed(slice(off, step));
      while (buf.next() == LineBuffer.LINE) {
        sink.accept(peer, line.set(buf.lineBytes(), buf.lineStart(), buf.lineLength()));
      }
      buf.releaseIfEmpty();
    }
  }

  private static void check(boolean condition, String what) {
    if (!condition) {
      throw new IllegalStateException("StringVsBytesBenchmark setup check failed: " + what);
    }
  }
}
