package dev.lineserver.internal;

import dev.lineserver.CloseReason;
import dev.lineserver.RefusalReason;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * One step of a connection's pipeline ({@link Pipeline}): bytes from the peer come in through
 * {@link #read}, in order, and go on to the next stage; bytes for the peer come out of {@link
 * #outbound}. A stage knows the stage after it and, through its {@link Context}, what it may ask of
 * its connection; nothing above that. Every query below answers for this stage and the ones after
 * it. The connection's I/O thread alone calls a stage.
 */
interface Stage {
  ByteBuffer NO_BYTES = ByteBuffer.allocate(0).asReadOnlyBuffer();

  /** Takes all of {@code bytes}, in read mode and valid during the call only. */
  void read(ByteBuffer bytes);

  /**
   * The peer's stream ended (its EOF, or quiet while the server drains): hands on what may still be
   * delivered, or fails the connection if its stream ended where it must not. The connection closes
   * after this.
   */
  void endOfStream();

  /**
   * The peer has sent nothing for a while: a stage that waits to tell what the stream is (an
   * optional PROXY header) decides now with what it holds.
   */
  default void quiet() {}

  /**
   * Bytes for the peer, in read mode, empty if none: the connection writes what the socket takes
   * and asks again once it is writable.
   */
  ByteBuffer outbound();

  /** The handshake a stage is in, as a message names it, or null once every one is through. */
  @Nullable String handshake();

  /** True while bytes wait for their end: a partial line, TLS record or PROXY header. */
  boolean holdsPartialInput();

  /** The connection closed: stop what runs elsewhere, queue the last bytes for the peer. */
  void closed();

  /** What a stage may ask of its connection; implemented by {@link Connection} alone. */
  interface Context {
    Peer peer();

    /** The connection's deadlines: a stage marks the partial input it holds. */
    ConnectionClock clock();

    /** True once the connection closed or began closing: a stage hands nothing on after that. */
    boolean isClosed();

    /**
     * What the application sent, next to write, in read mode, empty if none: the last stage's
     * {@link Stage#outbound}.
     */
    ByteBuffer sends();

    /** A stage's handshake is through; once none is left, the connection opens. */
    void handshakeDone();

    /** Closes with {@code HANDSHAKE_FAILED}, reported to {@code handshakeFailed}. */
    void handshakeFailed(Exception error);

    /** Closes with {@code reason}, reported to {@code connectionRefused} for {@code client}. */
    void refuse(SocketAddress client, CloseReason reason, RefusalReason refusal);

    void close(CloseReason reason);

    /** Writes what the pipeline has for the peer; false if the write failed, which closes. */
    boolean flush();

    /**
     * Stops reading while {@code tasks} run on the TLS threads; then, unless the connection closed
     * meanwhile, reads again and calls {@code done} (with the failure, if any) on the I/O thread.
     */
    void runTasks(Runnable tasks, Consumer<@Nullable Throwable> done);
  }
}
