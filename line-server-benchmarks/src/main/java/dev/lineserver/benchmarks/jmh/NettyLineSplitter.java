package dev.lineserver.benchmarks.jmh;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.LineBasedFrameDecoder;
import org.jspecify.annotations.Nullable;

/**
 * What a Netty pipeline with a {@link LineBasedFrameDecoder} does to each read, without the channel
 * or the pipeline: {@link #feed} cumulates the read as {@code ByteToMessageDecoder.channelRead}
 * does, with {@link ByteToMessageDecoder#MERGE_CUMULATOR} and the given allocator; {@link #next}
 * calls the decoder's {@code decode(ctx, buf)} and, once that returns null, does what {@code
 * channelRead}'s {@code finally} block and {@code channelReadComplete} do: releases an empty
 * cumulation, else discards read bytes. Owns the cumulation; one thread at a time. Each frame
 * returned is the caller's to release.
 */
final class NettyLineSplitter {
  private final Decoder decoder;
  private final ByteBufAllocator alloc;
  private @Nullable ByteBuf cumulation;
  private boolean first;

  NettyLineSplitter(int maxLength, ByteBufAllocator alloc) {
    this.decoder = new Decoder(maxLength);
    this.alloc = alloc;
  }

  /**
   * Takes over {@code in}, one read's bytes, as {@code channelRead} does. The previous read must
   * have been decoded to the end ({@link #next} returned null).
   */
  @SuppressWarnings("ReferenceEquality") // Is the cumulation the very input buffer?
  void feed(ByteBuf in) {
    ByteBuf current = cumulation;
    first = current == null;
    ByteBuf merged =
        ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(
            alloc, current == null ? Unpooled.EMPTY_BUFFER : current, in);
    if (merged == in && !first) {
      // The cumulator adopts an input it can use as is; a later discardSomeReadBytes would then
      // write into it. Netty owns its read buffers; here they wrap the benchmark's input array.
      throw new IllegalStateException("the cumulation was empty: the input must not align");
    }
    cumulation = merged;
  }

  /** Wraps {@code length} bytes of {@code src} as one read and {@link #feed feeds} them. */
  void feed(byte[] src, int offset, int length) {
    feed(Unpooled.wrappedBuffer(src, offset, length));
  }

  /** The next line of the cumulation, without its delimiter, or null once it has none. */
  @Nullable ByteBuf next() {
    ByteBuf buf = cumulation;
    if (buf == null) {
      return null;
    }
    if (buf.isReadable()) {
      ByteBuf frame = decoder.frame(buf);
      if (frame != null) {
        return frame;
      }
    }
    if (!buf.isReadable()) {
      buf.release();
      cumulation = null;
    } else if (!first && buf.refCnt() == 1) {
      buf.discardSomeReadBytes();
    }
    return null;
  }

  /** Bytes of a partial line held in the cumulation. */
  int bufferedBytes() {
    ByteBuf buf = cumulation;
    return buf == null ? 0 : buf.readableBytes();
  }

  /** Releases the cumulation. */
  void release() {
    ByteBuf buf = cumulation;
    cumulation = null;
    if (buf != null) {
      buf.release();
    }
  }

  /** Opens the decoder's protected {@code decode(ctx, buf)}; strips delimiters, fails late. */
  private static final class Decoder extends LineBasedFrameDecoder {
    Decoder(int maxLength) {
      super(maxLength, true, false);
    }

    /**
     * The next frame, or null. The context is used only to report a frame over {@code maxLength};
     * the benchmark input has none.
     */
    @Nullable ByteBuf frame(ByteBuf buf) {
      Object frame;
      try {
        frame = decode(null, buf);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      return (ByteBuf) frame;
    }
  }
}
