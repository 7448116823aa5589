package dev.lineserver.benchmarks.jmh;

import dev.lineserver.internal.LineBuffer;
import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.handler.codec.LineBasedFrameDecoder;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Line splitting throughput of {@link LineBuffer} beside Netty's {@link LineBasedFrameDecoder} on
 * the same in-memory bytes, cut into the same chunks: no sockets, threads or pipelines, so an upper
 * bound for one connection's line splitting, not a server benchmark.
 *
 * <p><b>Input.</b> One invocation splits {@link #BYTES_PER_INVOCATION} (1 MiB) of ASCII telemetry
 * CSV lines ({@link TelemetryLines}), each exactly {@code lineLength} bytes including its LF, fed
 * in {@code chunkSize} pieces as socket reads would be. Reads do not end on line boundaries, and
 * with these power-of-two sizes aligned cuts would never exercise the partial-line path; so the
 * line grid is shifted by {@link #CUT_BEFORE_LF} bytes against the chunk grid: every chunk ends
 * inside a line, which the splitter keeps and completes with the next chunk (the next invocation's,
 * for the last one). Each splitter lives for the whole trial, like a connection's, and every
 * invocation yields exactly {@code 1 MiB / lineLength} lines of {@code lineLength - 1} bytes;
 * {@link #setUp} checks that for each splitter before measuring.
 *
 * <p><b>{@link #lineBuffer}</b>, what the server's {@code Connection.received} does per read:
 * {@code feed(array, offset, chunkSize)}, {@code next()} until {@code NONE}, each line's view
 * (array, start, length) to the {@link Blackhole}, then {@code releaseIfEmpty()}. Included: the LF
 * scan, the CR check, copying each chunk's trailing partial line into the line buffer's own array
 * and completing it there. Not included: the socket read into the read buffer, decoding, the sink.
 *
 * <p><b>{@link #nettyAdaptive} and {@link #nettyUnpooledHeap}</b>, what {@code
 * ByteToMessageDecoder.channelRead} and {@code channelReadComplete} do per read, one read per
 * readiness event ({@link NettyLineSplitter}): the chunk is wrapped as a heap {@link ByteBuf} with
 * {@code Unpooled.wrappedBuffer} (two small objects, standing in for the read buffer a channel
 * fills), merged into the cumulation by {@code MERGE_CUMULATOR} (a copy of every chunk, since the
 * cumulation always holds a partial line), decoded by a {@code LineBasedFrameDecoder(maxLength,
 * stripDelimiter=true, failFast=false)} subclass calling {@code decode(ctx, buf)} until it returns
 * null, each frame (a retained slice) to the {@link Blackhole} and then released, then {@code
 * discardSomeReadBytes()} on the cumulation. {@code nettyAdaptive} allocates the cumulation from
 * {@code new AdaptiveByteBufAllocator()}, Netty 4.2's default {@code ctx.alloc()} (direct memory
 * where Netty prefers it, as on JDK 17); {@code nettyUnpooledHeap} from an unpooled heap allocator,
 * heap like the line buffer's arrays. Not included: the socket read, the channel, the pipeline's
 * {@code fireChannelRead} per frame, {@code CodecOutputList}, decoding. Netty's leak detector runs
 * at its default level (it samples only buffer allocations: cumulations, not frames).
 *
 * <p>Both sides have one line-length limit, 64 KiB (the server's default {@code maxLineLength}); no
 * input line reaches it. Both strip a CR before the LF. Both scan eight bytes at a time (SWAR):
 * Netty's {@code ByteBuf.indexOf} does when it may read unaligned longs, as on JDK 17. Compare on
 * JDK 17: from Java 25 on, Netty 4.2 does not use {@code sun.misc.Unsafe} by default ({@code
 * io.netty.noUnsafe}), so its buffers take other code paths there.
 *
 * <p>Each Netty variant has its own state, so a fork sets up, and C2 profiles, only the buffer
 * types its benchmark uses; with both set up in every fork, the decoder's calls saw three buffer
 * classes and the heap variant ran at a quarter to a half of its speed.
 *
 * <p><b>Units.</b> {@code @OperationsPerInvocation} counts one operation per input byte and the
 * output unit is microseconds, so the score, printed as {@code ops/us}, is bytes per microsecond,
 * that is MB/s (10<sup>6</sup> B/s). Divide by 1000 for GB/s; divide by {@code lineLength} for
 * lines per microsecond.
 *
 * <p><b>Run time.</b> 3 methods x 4 line lengths x 2 chunk sizes = 24 benchmarks, each run in 2
 * forks of 2 x 1 s warmup + 4 x 1 s measurement: about 7 s per fork with JVM start and setup, so
 * about 6 minutes for the 48 forks on a 2-core machine. Full run, from the project root after
 * {@code ./mvnw -B -pl line-server-benchmarks -am package -DskipTests}:
 *
 * <pre>{@code
 * java -jar line-server-benchmarks/target/benchmarks.jar 'jmh.SplitBenchmark' -prof gc \
 *     -rf json -rff split.json
 * }</pre>
 *
 * With {@code -prof gc}, {@code gc.alloc.rate.norm} is bytes per input byte: multiply by {@code
 * lineLength} for bytes per line (Netty allocates a slice object per frame and two per read).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@OperationsPerInvocation(SplitBenchmark.BYTES_PER_INVOCATION)
@Fork(2)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 4, time = 1)
public class SplitBenchmark {
  /** Input bytes split by one benchmark invocation: 1 MiB. */
  static final int BYTES_PER_INVOCATION = 1 << 20;

  /** Each chunk ends this many bytes before the next LF (or earlier, for lines longer than it). */
  static final int CUT_BEFORE_LF = 7;

  /** The server's default {@code maxLineLength}, and Netty's {@code maxLength} here. */
  static final int MAX_LINE_LENGTH = 64 * 1024;

  /** Bytes per line, including the LF; must divide 1 MiB. */
  @Param({"16", "64", "512", "4096"})
  int lineLength;

  /** Bytes per {@code feed}, one socket read; must divide 1 MiB. */
  @Param({"1024", "65536"})
  int chunkSize;

  /**
   * The byte that ends lines for {@link #lineBuffer}: 10 (LF) or 0 (NUL, every LF of the input
   * replaced). Netty's decoder knows only LF, so its benchmarks refuse 0.
   */
  @Param({"10"})
  int delimiter;

  private byte[] input = new byte[0];

  /** The same bytes in a direct buffer, which the server reads sockets into. */
  private ByteBuffer directInput = ByteBuffer.allocateDirect(0);

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
    int shift = lineLength - CUT_BEFORE_LF;
    input =
        TelemetryLines.rotate(
            TelemetryLines.lines(
                lineLength, BYTES_PER_INVOCATION / lineLength, new SplittableRandom(42)),
            shift);
    int expectedLines = BYTES_PER_INVOCATION / lineLength;
    if (delimiter != '\n' && delimiter != 0) {
      throw new IllegalArgumentException("delimiter: " + delimiter + " (expected: 10 or 0)");
    }
    for (int i = 0; i < input.length; i++) {
      if (input[i] == '\n') {
        input[i] = (byte) delimiter;
      }
    }
    directInput = ByteBuffer.allocateDirect(input.length).put(input).clear();

    buffer = new LineBuffer(MAX_LINE_LENGTH, (byte) delimiter);
    buffer.feed(slice(BYTES_PER_INVOCATION - shift, shift));
    check(
        buffer.next() == LineBuffer.NONE && buffer.bufferedBytes() == shift, "LineBuffer priming");
    for (int round = 0; round < 2; round++) {
      check(countLineBufferLines() == expectedLines, "LineBuffer lines per invocation");
      check(buffer.bufferedBytes() == shift, "LineBuffer partial line after an invocation");
    }
  }

  /** {@code directInput} with {@code length} bytes from {@code offset} remaining. */
  private ByteBuffer slice(int offset, int length) {
    directInput.limit(offset + length).position(offset);
    return directInput;
  }

  @Benchmark
  public void lineBuffer(Blackhole bh) {
    LineBuffer buf = buffer;
    int step = chunkSize;
    for (int off = 0; off < BYTES_PER_INVOCATION; off += step) {
      buf.feed(slice(off, step));
      int event;
      while ((event = buf.next()) != LineBuffer.NONE) {
        if (event == LineBuffer.LINE) {
          bh.consume(buf.lineBytes());
          bh.consume(buf.lineStart());
          bh.consume(buf.lineLength());
        } else {
          bh.consume(buf.tooLongLength());
        }
      }
      buf.releaseIfEmpty();
    }
  }

  @Benchmark
  public void nettyAdaptive(NettyAdaptive netty, Blackhole bh) {
    splitNetty(netty.splitter, bh);
  }

  @Benchmark
  public void nettyUnpooledHeap(NettyUnpooledHeap netty, Blackhole bh) {
    splitNetty(netty.splitter, bh);
  }

  /**
   * The Netty side with {@code new AdaptiveByteBufAllocator()}. One state per allocator, so that a
   * fork sets up, and so profiles, only the buffer types its benchmark uses.
   */
  @State(Scope.Thread)
  public static class NettyAdaptive {
    NettyLineSplitter splitter =
        new NettyLineSplitter(MAX_LINE_LENGTH, UnpooledByteBufAllocator.DEFAULT);

    @Setup(Level.Trial)
    public void setUp(SplitBenchmark input) {
      splitter = input.primedNetty(new AdaptiveByteBufAllocator());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      splitter.release();
    }
  }

  /** The Netty side with an unpooled heap allocator. */
  @State(Scope.Thread)
  public static class NettyUnpooledHeap {
    NettyLineSplitter splitter =
        new NettyLineSplitter(MAX_LINE_LENGTH, UnpooledByteBufAllocator.DEFAULT);

    @Setup(Level.Trial)
    public void setUp(SplitBenchmark input) {
      splitter = input.primedNetty(new UnpooledByteBufAllocator(false));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      splitter.release();
    }
  }

  private void splitNetty(NettyLineSplitter splitter, Blackhole bh) {
    byte[] in = input;
    int step = chunkSize;
    for (int off = 0; off < in.length; off += step) {
      splitter.feed(in, off, step);
      ByteBuf frame;
      while ((frame = splitter.next()) != null) {
        bh.consume(frame);
        frame.release();
      }
    }
  }

  /**
   * A splitter holding the partial line an invocation leaves, checked over two invocations. The
   * first read goes in a buffer of {@code alloc}'s, since the cumulator adopts it as the
   * cumulation: so the decoder sees only the cumulation type a real channel would give it.
   */
  NettyLineSplitter primedNetty(ByteBufAllocator alloc) {
    check(delimiter == '\n', "Netty's LineBasedFrameDecoder splits at LF only");
    int shift = lineLength - CUT_BEFORE_LF;
    NettyLineSplitter splitter = new NettyLineSplitter(MAX_LINE_LENGTH, alloc);
    splitter.feed(alloc.buffer(shift).writeBytes(input, BYTES_PER_INVOCATION - shift, shift));
    check(splitter.next() == null && splitter.bufferedBytes() == shift, "Netty priming");
    for (int round = 0; round < 2; round++) {
      int count = 0;
      for (int off = 0; off < input.length; off += chunkSize) {
        splitter.feed(input, off, chunkSize);
        ByteBuf frame;
        while ((frame = splitter.next()) != null) {
          check(frame.readableBytes() == lineLength - 1, "Netty frame length");
          check(frame.getByte(frame.readerIndex()) == 'v', "first byte of a Netty frame");
          frame.release();
          count++;
        }
      }
      check(count == BYTES_PER_INVOCATION / lineLength, "Netty lines per invocation");
      check(splitter.bufferedBytes() == shift, "Netty partial line after an invocation");
    }
    return splitter;
  }

  /** Runs one invocation's input through the buffer; returns the lines, each checked. */
  private int countLineBufferLines() {
    int count = 0;
    for (int off = 0; off < input.length; off += chunkSize) {
      buffer.feed(slice(off, chunkSize));
      int event;
      while ((event = buffer.next()) != LineBuffer.NONE) {
        check(event == LineBuffer.LINE, "event " + event);
        check(buffer.lineLength() == lineLength - 1, "line length " + buffer.lineLength());
        check(buffer.lineBytes().get(buffer.lineStart()) == 'v', "first byte of a line");
        count++;
      }
      buffer.releaseIfEmpty();
    }
    return count;
  }

  static void check(boolean condition, String what) {
    if (!condition) {
      throw new IllegalStateException("setup check failed: " + what);
    }
  }
}
