package dev.lineserver.internal;

import static java.util.Objects.requireNonNull;

import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;

/**
 * The TLS codec of one server connection, as its {@link TlsStage} drives it: socket bytes in
 * ({@link #unwrap}), plaintext out, bytes for the peer in {@link #outbound}. Owns its {@link
 * SSLEngine}, the input not unwrapped yet (the tail) and unsent bytes; one I/O thread calls it, the
 * engine's tasks run elsewhere ({@link #takeTasks}), and meanwhile the codec holds its input and
 * touches no engine. Idle, it holds no buffer; the tail stays within {@link #MAX_HELD}, unsent
 * bytes within {@link #append}'s bounds.
 */
final class TlsCodec {
  /** Receives decrypted bytes, in read mode, valid during the call only; it consumes them all. */
  interface Plaintext {
    void received(ByteBuffer plaintext);
  }

  /**
   * The largest record a codec holds, and the most unsent bytes after the handshake: twice the
   * biggest TLS record (16,709 bytes) and change, so the JDK's large fragments (33,093 bytes) fit.
   */
  static final int MAX_BUFFER = 34 * 1024;

  /**
   * The most unsent bytes during the initial handshake: the server's own flight (its certificate
   * chain above all) must fit, whatever its size; past this, the configuration is at fault.
   */
  static final int MAX_FLIGHT = 1024 * 1024;

  /**
   * The most input held while the engine's tasks run: an incomplete record and the rest of the one
   * read ({@link IoLoop#READ_BUFFER_SIZE}) that made the codec wait; the caller reads no more.
   */
  static final int MAX_HELD = MAX_BUFFER + IoLoop.READ_BUFFER_SIZE;

  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0).asReadOnlyBuffer();
  private static final byte HANDSHAKE_RECORD = 22;
  private static final int HEADER_SIZE = 5;

  /** Where the engine's delegated tasks are: none wait, taken and running, or done. */
  private enum Tasks {
    NONE,
    WAITING,
    DONE
  }

  private final SSLEngine engine;
  private final ByteBuffer plaintext;
  private @Nullable ByteBuffer tail;
  private ByteBuffer outbound = EMPTY;
  private boolean sawFirstByte;
  private boolean delivering;
  private boolean handshakeDone;
  private Tasks tasks = Tasks.NONE;
  private @Nullable Runnable untaken;
  private @Nullable Throwable taskFailure;
  private volatile boolean abandoned;

  /**
   * Wraps {@code engine}, configured for server mode by the caller. {@code plaintextBuffer}, from
   * {@link #newPlaintextBuffer}, may be shared by all stages of one I/O thread.
   */
  TlsCodec(SSLEngine engine, ByteBuffer plaintextBuffer) {
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
   * incomplete record for the next call, and all input while the engine's tasks are out (a call
   * with no input goes on after {@link #tasksDone}). Bytes after the peer's close_notify are
   * dropped. On failure, {@link #outbound} may hold the alert to send before closing.
   */
  void unwrap(ByteBuffer in, Plaintext out) throws SSLException {
    try {
      checkFirstByte(in);
      if (tasks == Tasks.DONE) {
        continueAfterTasks();
      }
      if (tasks == Tasks.NONE && tail != null) {
        completeTail(in, out);
      }
      if (tasks == Tasks.NONE && tail == null) {
        unwrapRecords(in, out);
      }
      if (in.hasRemaining() && (tasks != Tasks.NONE || !engine.isInboundDone())) {
        hold(in);
      }
      in.position(in.limit());
    } catch (SSLException e) {
      if (tasks == Tasks.NONE && taskFailure == null) {
        try {
          advance(HandshakeStatus.NEED_WRAP, wrapBuffer());
        } catch (SSLException alertFailed) {
          e.addSuppressed(alertFailed);
        }
      }
      throw e;
    }
  }

  /**
   * The engine's delegated tasks (the handshake's key exchange, signature and certificate checks)
   * if it waits for them, once; else null. Run them on any thread, then call {@link #tasksDone} on
   * this one. The tasks do nothing once the codec is {@link #abandon}ed.
   */
  @Nullable Runnable takeTasks() {
    Runnable taken = untaken;
    untaken = null;
    return taken;
  }

  /** The tasks ran ({@code failure} if they threw): the next {@link #unwrap} goes on from there. */
  void tasksDone(@Nullable Throwable failure) {
    if (tasks != Tasks.WAITING || untaken != null) {
      throw new IllegalStateException("tasksDone: " + tasks + " (expected: WAITING, taken)");
    }
    tasks = Tasks.DONE;
    taskFailure = failure;
  }

  /**
   * The engine waits for its tasks, or they ran and no {@link #unwrap} has gone on yet: the caller
   * reads nothing meanwhile.
   */
  boolean awaitingTasks() {
    return tasks != Tasks.NONE;
  }

  /** The connection is closed: tasks taken and not yet begun will do nothing. From any thread. */
  void abandon() {
    abandoned = true;
  }

  /**
   * Bytes for the peer, in read mode; empty if none. The caller writes what it can, leaves the rest
   * here, and calls again once the socket is writable, which also lets the codec drop the buffer.
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
    return tail != null && tasks == Tasks.NONE;
  }

  /** The peer sent close_notify: no more plaintext will come, as at end of stream. */
  boolean inboundDone() {
    return tasks == Tasks.NONE && engine.isInboundDone();
  }

  /**
   * Wraps application bytes from {@code src} into {@link #outbound}, a record at a time, while
   * another record fits within {@link #MAX_BUFFER} of unsent bytes; returns how many bytes of
   * {@code src} it took. Takes none before the handshake is through, while the engine's tasks are
   * out, or after {@link #closeOutbound}. Handshake messages the engine must send first (the answer
   * to a key update, say) go out before the next record, so they never interleave wrongly; should
   * the engine ask for its delegated tasks meanwhile, they wait in {@link #takeTasks}. Write {@link
   * #outbound} to the peer and call again for the rest.
   */
  int wrap(ByteBuffer src) throws SSLException {
    int taken = 0;
    while (src.hasRemaining()
        && handshakeDone
        && tasks == Tasks.NONE
        && !engine.isOutboundDone()
        && outbound.remaining() + engine.getSession().getPacketBufferSize() <= MAX_BUFFER) {
      HandshakeStatus status = engine.getHandshakeStatus();
      if (status == HandshakeStatus.NEED_WRAP || status == HandshakeStatus.NEED_TASK) {
        if (!advance(status, wrapBuffer())) {
          break; // the engine wants to wrap and produced nothing: it waits for the peer
        }
        continue; // with its tasks taken, the loop ends: they are for takeTasks()
      }
      ByteBuffer scratch = wrapBuffer();
      scratch.clear();
      SSLEngineResult result = engine.wrap(src, scratch);
      scratch.flip();
      append(scratch);
      taken += result.bytesConsumed();
      if (result.getStatus() != SSLEngineResult.Status.OK || result.bytesConsumed() == 0) {
        break;
      }
      advance(result.getHandshakeStatus(), wrapBuffer());
    }
    return taken;
  }

  /**
   * Queues our close_notify into {@link #outbound}; nothing while the engine's tasks run.
   * Idempotent; safe inside {@link Plaintext}.
   */
  void closeOutbound() {
    if (tasks != Tasks.NONE || engine.isOutboundDone()) {
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

  /** After the tasks: fails with their failure, else wraps what the engine now has for the peer. */
  private void continueAfterTasks() throws SSLException {
    tasks = Tasks.NONE;
    Throwable failure = taskFailure;
    if (failure != null) {
      throw new SSLException("TLS handshake task failed: " + failure, failure);
    }
    advance(engine.getHandshakeStatus(), wrapBuffer());
  }

  /**
   * Unwraps the records the tail holds, then moves bytes from {@code in} to it, as many as its
   * record's header says are missing, and unwraps that record once complete; the rest of {@code in}
   * is left for unwrapping in place. Stops, the tail kept, when the engine waits for tasks.
   */
  private void completeTail(ByteBuffer in, Plaintext out) throws SSLException {
    ByteBuffer held = requireNonNull(tail);
    while (!engine.isInboundDone()) {
      if (held.remaining() >= recordSize(held)) {
        unwrapRecords(held, out);
        if (!held.hasRemaining() || engine.isInboundDone()) {
          break;
        }
        if (tasks != Tasks.NONE) {
          tail = held;
          return;
        }
        held.compact().flip();
      }
      if (!in.hasRemaining()) {
        tail = held;
        return;
      }
      int copied = Math.min(Math.max(recordSize(held) - held.remaining(), 1), in.remaining());
      if (held.remaining() + copied > held.capacity()) {
        held = newTail(held.remaining() + copied, MAX_BUFFER).put(held).flip();
      }
      int end = held.limit();
      held.limit(end + copied);
      held.put(end, in, in.position(), copied);
      in.position(in.position() + copied);
    }
    tail = null;
  }

  /**
   * Unwraps the complete records at the start of {@code src}; stops at an incomplete one, or when
   * the engine waits for tasks.
   */
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
      if (tasks != Tasks.NONE) {
        return;
      }
    }
  }

  /**
   * Keeps the rest of {@code in} after the tail: an incomplete record, sized by its header, or
   * whatever arrives while the engine's tasks run.
   */
  private void hold(ByteBuffer in) throws SSLException {
    int limit = tasks == Tasks.NONE ? MAX_BUFFER : MAX_HELD;
    ByteBuffer held = tail;
    if (held == null) {
      int size = tasks == Tasks.NONE ? Math.max(recordSize(in), in.remaining()) : in.remaining();
      tail = newTail(size, limit).put(in).flip();
      return;
    }
    int size = held.remaining() + in.remaining();
    if (held.position() + size > held.capacity()) {
      held = newTail(size, limit).put(held).flip();
    }
    int end = held.limit();
    held.limit(end + in.remaining());
    held.put(end, in, in.position(), in.remaining());
    tail = held;
  }

  private ByteBuffer newTail(int size, int limit) throws SSLException {
    if (size > limit) {
      throw new SSLException(
          (tasks == Tasks.NONE ? "TLS record of " : "TLS input while the handshake computes: ")
              + size
              + " bytes (limit: "
              + limit
              + ")");
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
   * Wraps handshake messages into {@link #outbound} until the engine needs the peer, or takes its
   * delegated tasks for {@link #takeTasks}; {@code scratch} takes each wrapped record. Returns
   * whether it did anything.
   */
  private boolean advance(HandshakeStatus status, ByteBuffer scratch) throws SSLException {
    boolean advanced = false;
    HandshakeStatus next = status;
    while (true) {
      if (next == HandshakeStatus.FINISHED) {
        handshakeDone = true;
      }
      if (next == HandshakeStatus.NEED_TASK) {
        awaitTasks();
        return true;
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

  /** Takes the engine's delegated tasks, to be run by the caller, which stops this stage. */
  private void awaitTasks() {
    List<Runnable> delegated = new ArrayList<>(1);
    for (Runnable t = engine.getDelegatedTask(); t != null; t = engine.getDelegatedTask()) {
      delegated.add(t);
    }
    tasks = Tasks.WAITING;
    untaken =
        () -> {
          for (Runnable task : delegated) {
            if (abandoned) {
              return;
            }
            task.run();
          }
        };
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
