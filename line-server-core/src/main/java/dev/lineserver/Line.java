package dev.lineserver;

import java.nio.ByteBuffer;
import java.nio.charset.Charset;

/**
 * One line as bytes, without its terminator, for a {@link ByteLineSink}: a read-only view into the
 * server's buffers, with no copy and no allocation.
 *
 * <p><b>Lifetime:</b> a {@code Line} is valid only during the {@link ByteLineSink#accept} call that
 * received it. The same object is reused for the next line, and the bytes behind it are overwritten
 * by the next read. To keep a line, copy it ({@link #copyTo}, {@link #toByteArray}) or decode it
 * ({@link #asString()}) before returning.
 *
 * <pre>{@code
 * .byteSink((connection, line) -> {
 *   int comma = line.indexOf((byte) ',', 0);      // parse in place, no String
 *   producer.send(line.toByteArray());             // or copy what must outlive the call
 * })
 * }</pre>
 */
public interface Line {

  /** The number of bytes in the line. */
  int length();

  /**
   * The byte at {@code index}.
   *
   * @throws IndexOutOfBoundsException unless {@code 0 <= index < length()}
   */
  byte byteAt(int index);

  /**
   * The index of the first {@code value} at or after {@code fromIndex}, or -1.
   *
   * @throws IndexOutOfBoundsException unless {@code 0 <= fromIndex <= length()}
   */
  int indexOf(byte value, int fromIndex);

  /**
   * Copies the line into {@code target} at {@code offset}.
   *
   * @throws IndexOutOfBoundsException if it does not fit
   */
  void copyTo(byte[] target, int offset);

  /** A new array holding the line's bytes. */
  byte[] toByteArray();

  /**
   * A read-only buffer whose remaining bytes are the line: its position is at the line's first byte
   * (not necessarily 0) and its limit after the last, so use relative gets or {@code get(position()
   * + i)}. The same buffer object is reused; like the line, it is valid only during the call.
   */
  ByteBuffer asByteBuffer();

  /** The line decoded with the server's charset, malformed input replaced with U+FFFD. */
  String asString();

  /** The line decoded with {@code charset}, malformed input replaced with U+FFFD. */
  String asString(Charset charset);
}
