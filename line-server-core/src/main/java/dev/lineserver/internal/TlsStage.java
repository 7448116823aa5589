package dev.lineserver.internal;

import dev.lineserver.CloseReason;
import java.nio.ByteBuffer;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;

/**
 * The TLS stage: unwraps the peer's records through its {@link TlsCodec} and hands the plaintext
 * on, so the stages after it see plaintext only; what the codec has for the peer (the handshake's
 * flights, alerts, close_notify) and the next stage's bytes, wrapped, are its {@link #outbound},
 * flushed by the connection. While the engine's delegated tasks run on the TLS threads, the
 * connection reads nothing. {@code opened} turns true once, when the handshake is through and the
 * peer's session is known.
 */
final class TlsStage implements Stage, TlsCodec.Plaintext {
  private final Stage next;
  private final Context context;
  private final TlsCodec codec;
  private boolean opened;
  private boolean closed;

  TlsStage(Stage next, Context context, TlsCodec codec) {
    this.next = next;
    this.context = context;
    this.codec = codec;
  }

  @Override
  public void read(ByteBuffer bytes) {
    try {
      codec.unwrap(bytes, this);
    } catch (SSLException e) {
      context.flush(); // the alert, if any
      if (!context.isClosed()) {
        failed(e);
      }
      return;
    }
    if (context.isClosed() || !context.flush()) {
      return;
    }
    openIfDone();
    if (codec.inboundDone()) {
      endOfStream(); // the peer's close_notify: close() answers with ours
      context.close(CloseReason.PEER_EOF);
      return;
    }
    // A record begun and not ended counts as a partial line; a record completed that carried no
    // plaintext (a handshake message) ends the mark the line stage would otherwise never clear.
    context.clock().partial(codec.hasPartialRecord() || next.holdsPartialInput(), false);
    Runnable tasks = codec.takeTasks();
    if (tasks != null && !context.isClosed()) {
      context.runTasks(tasks, this::tasksRan);
    }
  }

  /** Plaintext from the codec, valid during the call: on to the next stage. */
  @Override
  public void received(ByteBuffer plaintext) {
    if (context.isClosed()) {
      return;
    }
    openIfDone(); // plaintext flows once the handshake is done
    next.read(plaintext);
  }

  private void openIfDone() {
    if (!opened && codec.handshakeDone()) {
      opened = true;
      context.peer().secured(codec.session());
      context.handshakeDone();
    }
  }

  /** On the I/O thread, once the engine's tasks ran: the codec goes on from there. */
  private void tasksRan(@Nullable Throwable failure) {
    codec.tasksDone(failure);
    if (context.isClosed()) {
      context.flush(); // closing: nothing more is read, but what waited for the tasks is written
      return;
    }
    read(NO_BYTES);
  }

  /** Before the connection opened, the handshake failed; after, the peer broke the protocol. */
  private void failed(SSLException error) {
    if (!opened) {
      context.handshakeFailed(error);
      return;
    }
    Events.tlsFailed(context.peer(), error);
    context.close(CloseReason.PEER_RESET);
  }

  /** A peer that began a handshake and ended its stream inside it failed; after, lines go on. */
  @Override
  public void endOfStream() {
    if (opened) {
      next.endOfStream();
    } else if (codec.started()) {
      context.handshakeFailed(new SSLException("connection ended during the TLS handshake"));
    }
  }

  /**
   * The codec's own bytes first (handshake messages, alerts, close_notify); once they are written,
   * the next stage's bytes (the sends) wrapped into records, as many as the codec's bound takes.
   */
  @Override
  public ByteBuffer outbound() {
    if (closed && !codec.handshakeDone()) {
      return NO_BYTES; // a handshake cut short: nothing more goes out
    }
    ByteBuffer own = codec.outbound();
    if (own.hasRemaining() || !opened || closed) {
      return own;
    }
    ByteBuffer plaintext = next.outbound();
    if (plaintext.hasRemaining()) {
      try {
        codec.wrap(plaintext);
      } catch (SSLException e) {
        failed(e);
        return NO_BYTES;
      }
    }
    return codec.outbound();
  }

  @Override
  public @Nullable String handshake() {
    return opened ? next.handshake() : "TLS handshake";
  }

  @Override
  public boolean holdsPartialInput() {
    return codec.hasPartialRecord() || (!opened && codec.started()) || next.holdsPartialInput();
  }

  /** Tasks not yet begun will do nothing; after the handshake, our close_notify is queued. */
  @Override
  public void closed() {
    closed = true;
    codec.abandon();
    if (codec.handshakeDone()) {
      codec.closeOutbound();
    }
    next.closed();
  }
}
