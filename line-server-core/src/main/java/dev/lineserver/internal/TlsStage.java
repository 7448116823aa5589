package dev.lineserver.internal;

import static java.util.Objects.requireNonNull;

import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;

/**
 * The TLS layer of one server connection: socket bytes in ({@link #unwrap}), plaintext out, bytes
 * for the peer in {@link #outbound}. Owns its {@link SSLEngine}, an incomplete record's bytes (the
 * tail) and unsent bytes; one I/O thread alone calls it and runs the engine's tasks inline. Idle,
 * it holds no buffer: the tail, sized to its record, lives while the record is incomplete, within
 * {@link #MAX_BUFFER}; the unsent bytes until written, within {@link #append}'s bounds.
 */
final class TlsStage {
  /** Receives decrypted bytes, in read mode, valid during the call only; it consumes them all. */
  interface Plaintext {
    void received(ByteBuffer plaintext);
  }

  /**
   * The largest record a stage holds, and the most unsent bytes after the handshake: twice the
   * biggest TLS record (16,709 bytes) and change, so the JDK's large fragments (33,093 bytes) fit.
   */
  static final int MAX_BUFFER = 34 * 1024;

  /**
   * The most unsent bytes during the initial handshake: the server's own flight (its certificate
   * chain above all) must fit, whatever its size; past this, the configuration is at fault.
   */
  static final int MAX_FLIGHT = 1024 * 1024;

  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0).asReadOnlyBuffer();
  private static final byte HANDSHAKE_RECORD = 22;
  private static final int HEADER_SIZE = 5;

  private final SSLEngine engine;
  private final ByteBuffer plaintext;
  private @Nullable ByteBuffer tail;
  private ByteBuffer outbound = EMPTY;
  private boolean sawFirstByte;
  private boolean delivering;
  private boolean handshakeDone;

  /**
   * Wraps {@code engine}, configured for server mode by the caller. {@code plaintextBuffer}, from
   * {@link #newPlaintextBuffer}, may be shared by all stages of one I/O thread.
   */
  TlsStage(SSLEngine engine, ByteBuffer plaintextBuffer) {
    if (plaintextBuffer.capacity() < MAX_BUFFER || !plaintextBuffer.hasArray()) {
      throw new IllegalArgumentException(
          "plaintextBuffer: " + plaintextBuffer + " (expected: from newPlaintextBuffer())");
    }
    this.engine = engine;
    this.plaintext = plaintextBuffer;
  }

  /** A buffer for decrypted bytes, big enough for any record; one per I/O thread suffices. */
  static ByteBuffer newPlaintextBuffer() {
    return ByteBuffer.allocate(MAX_BUFFER);
  }

  /**
   * Consumes all of {@code in} and hands every decrypted byte to {@code out}, in order; keeps an
   * incomplete record for the next call. Bytes after the peer's close_notify are dropped. On
   * failure, {@link #outbound} may hold the alert to send before closing.
   */
  void unwrap(ByteBuffer in, Plaintext out) throws SSLException {
    try {
      checkFirstByte(in);
      if (tail != null) {
        completeTail(in, out);
      }
      if (tail == null) {
        unwrapRecords(in, out);
        if (in.hasRemaining() && !engine.isInboundDone()) {
          keepTail(in);
        }
      }
      in.position(in.limit());
    } catch (SSLException e) {
      try {
        advance(HandshakeStatus.NEED_WRAP, wrapBuffer());
      } catch (SSLException alertFailed) {
        e.addSuppressed(alertFailed);
      }
      throw e;
    }
  }

  /**
   * Bytes for the peer, in read mode; empty if none. The caller writes what it can, leaves the rest
   * here, and calls again once the socket is writable, which also lets the stage drop the buffer.
   */
  ByteBuffer outbound() {
    if (!outbound.hasRemaining()) {
      outbound = EMPTY;
    }
    return outbound;
  }

  /** The initial handshake has completed: the peer is authenticated, {@link #session} final. */
  boolean handshakeDone() {
    return handshakeDone;
  }

  /** The peer has sent a byte: the handshake has begun. */
  boolean started() {
    return sawFirstByte;
  }

  /** Holds the start of a record whose end has not arrived: the peer stopped mid-record. */
  boolean hasPartialRecord() {
    return tail != null;
  }

  /** The peer sent close_notify: no more plaintext will come, as at end of stream. */
  boolean inboundDone() {
    return engine.isInboundDone();
  }

  /** Queues our close_notify into {@link #outbound}. Idempotent; safe inside {@link Plaintext}. */
  void closeOutbound() {
    if (engine.isOutboundDone()) {
      return;
    }
    engine.closeOutbound();
    try {
      advance(HandshakeStatus.NEED_WRAP, wrapBuffer());
    } catch (SSLException e) {
      Events.LOGGER.log(Level.DEBUG, () -> "close_notify not sent: " + e);
    }
  }

  SSLSession session() {
    return engine.getSession();
  }

  /**
   * A stream that does not begin with a TLS handshake record fails at once, however short. (So an
   * SSLv2-format ClientHello fails too; no TLS 1.2 or 1.3 client sends one.)
   */
  private void checkFirstByte(ByteBuffer in) throws SSLException {
    if (sawFirstByte || !in.hasRemaining()) {
      return;
    }
    sawFirstByte = true;
    byte first = in.get(in.position());
    if (first != HANDSHAKE_RECORD) {
      throw new SSLException(
          String.format("not a TLS handshake: first byte 0x%02x (a plaintext client?)", first));
    }
  }

  /**
   * Moves bytes from {@code in} to the tail, as many as its record's header says are missing, and
   * unwraps the record once complete; the rest of {@code in} is left for unwrapping in place.
   */
  private void completeTail(ByteBuffer in, Plaintext out) throws SSLException {
    ByteBuffer held = requireNonNull(tail);
    while (in.hasRemaining() && !engine.isInboundDone()) {
      int copied = Math.min(Math.max(recordSize(held) - held.remaining(), 1), in.remaining());
      if (held.remaining() + copied > held.capacity()) {
        held = newTail(held.remaining() + copied).put(held).flip();
      }
      int end = held.limit();
      held.limit(end + copied);
      held.put(end, in, in.position(), copied);
      in.position(in.position() + copied);
      unwrapRecords(held, out);
      if (!held.hasRemaining()) {
        tail = null;
        return;
      }
      held.compact().flip();
    }
    tail = held;
  }

  /** Unwraps the complete records at the start of {@code src}; stops at an incomplete one. */
  private void unwrapRecords(ByteBuffer src, Plaintext out) throws SSLException {
    while (src.hasRemaining()) {
      plaintext.clear();
      SSLEngineResult result = engine.unwrap(src, plaintext);
      plaintext.flip();
      if (plaintext.hasRemaining()) {
        delivering = true;
        try {
          out.received(plaintext);
        } finally {
          delivering = false;
        }
      }
      boolean advanced = advance(result.getHandshakeStatus(), plaintext);
      switch (result.getStatus()) {
        case BUFFER_UNDERFLOW, CLOSED -> {
          return;
        }
        case BUFFER_OVERFLOW ->
            throw new SSLException("TLS record over " + plaintext.capacity() + " bytes: " + result);
        case OK -> {
          if (result.bytesConsumed() == 0 && !advanced) {
            throw new SSLException("TLS engine made no progress: " + result);
          }
        }
      }
    }
  }

  private void keepTail(ByteBuffer in) throws SSLException {
    tail = newTail(Math.max(recordSize(in), in.remaining())).put(in).flip();
  }

  private static ByteBuffer newTail(int size) throws SSLException {
    if (size > MAX_BUFFER) {
      throw new SSLException("TLS record of " + size + " bytes (limit: " + MAX_BUFFER + ")");
    }
    return ByteBuffer.allocate(size);
  }

  /** The size of the record at the start of {@code buffer} as its header says, or a header's. */
  private static int recordSize(ByteBuffer buffer) {
    if (buffer.remaining() < HEADER_SIZE) {
      return HEADER_SIZE;
    }
    int at = buffer.position();
    return HEADER_SIZE + ((buffer.get(at + 3) & 0xFF) << 8 | (buffer.get(at + 4) & 0xFF));
  }

  /**
   * Runs delegated tasks and wraps handshake messages into {@link #outbound} until the engine needs
   * the peer; {@code scratch} takes each wrapped record. Returns whether it did anything.
   */
  private boolean advance(HandshakeStatus status, ByteBuffer scratch) throws SSLException {
    boolean advanced = false;
    HandshakeStatus next = status;
    while (true) {
      if (next == HandshakeStatus.FINISHED) {
        handshakeDone = true;
      }
      if (next == HandshakeStatus.NEED_TASK) {
        for (Runnable t = engine.getDelegatedTask(); t != null; t = engine.getDelegatedTask()) {
          t.run();
        }
        next = engine.getHandshakeStatus();
      } else if (next == HandshakeStatus.NEED_WRAP) {
        scratch.clear();
        SSLEngineResult result = engine.wrap(EMPTY, scratch);
        scratch.flip();
        append(scratch);
        next = result.getHandshakeStatus();
        if (result.bytesProduced() == 0 && next == HandshakeStatus.NEED_WRAP) {
          return advanced;
        }
      } else {
        return advanced;
      }
      advanced = true;
    }
  }

  /** Where to wrap records: the plaintext buffer, unless a {@link Plaintext} is reading it. */
  private ByteBuffer wrapBuffer() {
    return delivering ? ByteBuffer.allocate(engine.getSession().getPacketBufferSize()) : plaintext;
  }

  /**
   * Adds {@code produced} to the unsent bytes: up to {@link #MAX_FLIGHT} until the handshake is
   * done, then {@link #MAX_BUFFER}, which only a peer that does not read exceeds.
   */
  private void append(ByteBuffer produced) throws SSLException {
    if (!produced.hasRemaining()) {
      return;
    }
    int size = outbound.remaining() + produced.remaining();
    if (!handshakeDone && size > MAX_FLIGHT) {
      throw new SSLException(
          "TLS handshake flight of "
              + size
              + " bytes (limit: "
              + MAX_FLIGHT
              + "): chain too long?");
    }
    if (handshakeDone && size > MAX_BUFFER) {
      throw new SSLException(
          "peer does not read: " + size + " bytes to send (limit: " + MAX_BUFFER + ")");
    }
    ByteBuffer joined = ByteBuffer.allocate(size);
    joined.put(outbound).put(produced).flip();
    outbound = joined;
  }
}
