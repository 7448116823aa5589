package dev.lineserver.testing;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CoderResult;
import java.nio.charset.StandardCharsets;

/** ASCII, except that its decoder throws on '!': a charset whose decoding fails mid-stream. */
public final class ExplodingCharset extends Charset {

  public ExplodingCharset() {
    super("x-exploding", new String[0]);
  }

  @Override
  public boolean contains(Charset cs) {
    return false;
  }

  @Override
  public CharsetDecoder newDecoder() {
    return new CharsetDecoder(this, 1, 1) {
      @Override
      protected CoderResult decodeLoop(ByteBuffer in, CharBuffer out) {
        while (in.hasRemaining()) {
          if (!out.hasRemaining()) {
            return CoderResult.OVERFLOW;
          }
          byte b = in.get();
          if (b == '!') {
            throw new IllegalStateException("exploding charset met '!'");
          }
          out.put((char) (b & 0x7F));
        }
        return CoderResult.UNDERFLOW;
      }
    };
  }

  @Override
  public CharsetEncoder newEncoder() {
    return StandardCharsets.US_ASCII.newEncoder();
  }
}
