package dev.lineserver.internal;

import java.nio.ByteBuffer;

/**
 * Splits one connection's byte stream into lines: bytes in through {@link #feed}, events out
 * through {@link #next} and, at end of stream, {@link #finish}. Owns at most {@code maxLineLength +
 * 1} bytes (a partial line, with room for a CR before its LF); a longer line is counted, never
 * stored. Used by one thread at a time. Invariants: {@code pos <= end}; every input byte before
 * {@code pos} was examined exactly once; {@code partialLength == 0} while discarding.
 *
 * <p>A line is the bytes before a delimiter; with LF as the delimiter, less one CR right before it.
 * A reported line is a view ({@link #lineBytes}, {@link #lineStart}, {@link #lineLength}) into the
 * fed buffer (heap or direct) or the partial-line buffer, valid until the next call on this object.
 */
public final class LineBuffer {
  /** {@link #next} or {@link #finish}: the input is consumed, nothing to report. */
  public static final int NONE = 0;

  /** {@link #next} or {@link #finish}: a line is ready in {@link #lineBytes}. */
  public static final int LINE = 1;

  /**
   * {@link #next} or {@link #finish}: a line was too long; {@link #tooLongLength} says how long.
   */
  public static final int TOO_LONG = 2;

  private static final byte LF = '\n';
  private static final byte CR = '\r';
  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
  private static final int FIRST_CAPACITY = 256;

  private final int maxLineLength;
  private final byte delimiter;
  private final boolean stripCr;

  private ByteBuffer input = EMPTY;
  private int pos;
  private int end;

  private ByteBuffer partial = EMPTY;
  private int partialLength;

  private boolean discarding;
  private boolean resyncing;
  private long discardedLength; // also the length reported by TOO_LONG, once discarding ended
  private boolean discardedEndsWithCr;

  private ByteBuffer lineBytes = EMPTY;
  private int lineStart;
  private int lineLength;

  /** A buffer for LF-ended lines. */
  public LineBuffer(int maxLineLength) {
    this(maxLineLength, LF);
  }

  /** A buffer for lines ended by {@code delimiter}; a CR before it is stripped only for LF. */
  public LineBuffer(int maxLineLength, byte delimiter) {
    if (maxLineLength < 1 || maxLineLength > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "maxLineLength: " + maxLineLength + " (expected: 1.." + (Integer.MAX_VALUE - 8) + ")");
    }
    this.maxLineLength = maxLineLength;
    this.delimiter = delimiter;
    this.stripCr = delimiter == LF;
  }

  /**
   * Hands the buffer the remaining bytes of {@code src}, read by absolute index; its position and
   * limit stay as they are. The previous input must have been consumed ({@link #next} returned
   * {@link #NONE}); the buffer is read, not kept, past that point.
   */
  public void feed(ByteBuffer src) {
    if (pos != end) {
      throw new IllegalStateException("feed: " + (end - pos) + " bytes of the last input unread");
    }
    input = src;
    pos = src.position();
    end = src.limit();
  }

  /** {@link #feed(ByteBuffer)} with {@code length} bytes of {@code src} from {@code offset}. */
  public void feed(byte[] src, int offset, int length) {
    feed(ByteBuffer.wrap(src, offset, length));
  }

  /**
   * Advances to the next event in the fed input: {@link #LINE}, {@link #TOO_LONG} or {@link #NONE}.
   */
  public int next() {
    while (pos < end) {
      int from = pos;
      int lf = Bytes.indexOf(input, from, end, delimiter);
      if (lf < 0) {
        pos = end;
        keep(from, end);
        return NONE;
      }
      pos = lf + 1;
      if (discarding) {
        long length = discardedLength + (lf - from);
        boolean endsWithCr = stripCr && (lf > from ? input.get(lf - 1) == CR : discardedEndsWithCr);
        boolean report = !resyncing;
        discarding = false;
        resyncing = false;
        discardedLength = 0;
        if (report) {
          return tooLong(endsWithCr ? length - 1 : length);
        }
      } else if (partialLength == 0) {
        return line(input, from, lf - from);
      } else {
        return joinPartial(from, lf);
      }
    }
    return NONE;
  }

  /**
   * Ends the stream: reports the unterminated last line, if any, as a line ({@link #LINE}, with a
   * trailing CR kept as data) or as {@link #TOO_LONG}; else {@link #NONE}. Call once {@link #next}
   * returned {@link #NONE}.
   */
  public int finish() {
    if (discarding) {
      long length = discardedLength;
      boolean report = !resyncing;
      discarding = false;
      resyncing = false;
      discardedLength = 0;
      return report ? tooLong(length) : NONE;
    }
    if (partialLength == 0) {
      return NONE;
    }
    int length = partialLength;
    partialLength = 0;
    if (length > maxLineLength) {
      return tooLong(length);
    }
    lineBytes = partial;
    lineStart = 0;
    lineLength = length;
    return LINE;
  }

  /**
   * Returns a fresh buffer that takes over this one's unread input, for a connection whose line
   * failed. After a failure outside the buffer (the sink), this buffer's state is whole and nothing
   * is lost. After a failure inside it, {@code resync} makes the fresh buffer skip to the next
   * delimiter, so the broken line is dropped rather than delivered in pieces.
   */
  public LineBuffer restart(boolean resync) {
    LineBuffer fresh = new LineBuffer(maxLineLength, delimiter);
    fresh.input = input;
    fresh.pos = pos;
    fresh.end = end;
    fresh.discarding = resync;
    fresh.resyncing = resync;
    return fresh;
  }

  /**
   * The buffer holding the current line at absolute indexes; see {@link #lineStart} and {@link
   * #lineLength}. Its position and limit mean nothing.
   */
  public ByteBuffer lineBytes() {
    return lineBytes;
  }

  public int lineStart() {
    return lineStart;
  }

  public int lineLength() {
    return lineLength;
  }

  /** The length of the line reported as {@link #TOO_LONG}, without its terminator. */
  public long tooLongLength() {
    return discardedLength;
  }

  /** True while a line has begun and not ended: bytes are held, or a too-long line is counted. */
  public boolean hasPartialLine() {
    return partialLength > 0 || discarding;
  }

  /** Bytes held for a partial line; at most {@code maxLineLength + 1}. */
  public int bufferedBytes() {
    return partialLength;
  }

  /**
   * Drops the partial-line array if no partial line is held, so an idle connection holds none; the
   * next partial line allocates a fresh one.
   */
  public void releaseIfEmpty() {
    if (partialLength == 0) {
      partial = EMPTY;
      lineBytes = EMPTY; // may be the partial array of the last joined line
    }
  }

  private int joinPartial(int from, int lf) {
    long length = (long) partialLength + (lf - from);
    if (length > maxLineLength + 1L) {
      // The partial line alone fits, so bytes of this input precede the LF: lf > from.
      partialLength = 0;
      return tooLong(stripCr && input.get(lf - 1) == CR ? length - 1 : length);
    }
    append(from, lf);
    int joined = partialLength;
    partialLength = 0;
    return line(partial, 0, joined);
  }

  private int line(ByteBuffer bytes, int start, int length) {
    if (stripCr && length > 0 && bytes.get(start + length - 1) == CR) {
      length--;
    }
    if (length > maxLineLength) {
      return tooLong(length);
    }
    lineBytes = bytes;
    lineStart = start;
    lineLength = length;
    return LINE;
  }

  private int tooLong(long length) {
    discardedLength = length; // not discarding now: see tooLongLength()
    return TOO_LONG;
  }

  /**
   * Keeps {@code input[from, to)}, which holds no delimiter, as the start of a line, or counts it.
   */
  private void keep(int from, int to) {
    if (from == to) {
      return;
    }
    if (discarding) {
      discardedLength += to - from;
      discardedEndsWithCr = input.get(to - 1) == CR;
      return;
    }
    long length = (long) partialLength + (to - from);
    if (length > maxLineLength + 1L) {
      discarding = true;
      discardedLength = length;
      discardedEndsWithCr = input.get(to - 1) == CR;
      partialLength = 0;
      return;
    }
    append(from, to);
  }

  private void append(int from, int to) {
    int length = partialLength + (to - from);
    if (length > partial.capacity()) {
      long grown = Math.max(length, Math.max(FIRST_CAPACITY, 2L * partial.capacity()));
      ByteBuffer larger = ByteBuffer.allocate((int) Math.min(grown, maxLineLength + 1L));
      partial = larger.put(0, partial, 0, partialLength);
    }
    partial.put(partialLength, input, from, to - from);
    partialLength = length;
  }
}
