package dev.lineserver.internal;

import static java.util.Objects.requireNonNull;

import dev.lineserver.CloseReason;
import dev.lineserver.LineServerListener;
import java.nio.ByteBuffer;
import org.jspecify.annotations.Nullable;

/**
 * The last stage: splits the bytes into lines ({@link LineBuffer}) and hands each to the sink, on
 * the I/O thread as the {@link SinkCall} it extends, or packed into the connection's {@link
 * SinkQueue} for the sink executor. A failing line re-creates the line buffer, which takes over the
 * unread input (the supervision), until the restart intensity closes the connection. It marks the
 * partial line it holds on the connection's clock. Its {@link #outbound} is what the application
 * sent to the peer.
 */
final class LineStage extends SinkCall implements Stage {
  private final Context context;
  private final @Nullable SinkQueue queue;
  private @Nullable LineBuffer buffer; // only while a line is partial: else the loop's spare

  /**
   * With a {@code queue}, lines go to it, and this sink call only counts the line buffer's own
   * failures. The {@code scope} is the I/O loop's: once {@code close()} gave up on it, nothing more
   * is delivered or reported.
   */
  LineStage(Context context, SinkCall.Scope scope, @Nullable SinkQueue queue) {
    super(context.peer(), scope);
    this.context = context;
    this.queue = queue;
  }

  /** Hands every complete line in {@code bytes} to the sink; keeps the partial one. */
  @Override
  public void read(ByteBuffer bytes) {
    if (context.isClosed()) {
      return;
    }
    LineBuffer lines = buffer;
    if (lines == null) {
      lines = buffer = scope.takeLineBuffer();
    }
    lines.feed(bytes);
    boolean ended = false;
    while (!context.isClosed()) {
      int event;
      try {
        event = requireNonNull(buffer).next();
      } catch (RuntimeException e) {
        restart(failed(null, e), true);
        continue;
      }
      if (event == LineBuffer.NONE) {
        if (queue != null) {
          queue.seal();
        }
        if (scope.givenUp.getAsBoolean()) {
          context.close(CloseReason.SHUTDOWN_TIMEOUT);
          return;
        }
        lines = requireNonNull(buffer);
        boolean partial = lines.hasPartialLine();
        if (partial) {
          lines.releaseIfEmpty();
        } else {
          scope.spareLineBuffer(lines);
          buffer = null;
        }
        // A partial line left now began in this read if a line ended in it, else earlier.
        context.clock().partial(partial, ended);
        return;
      }
      ended = true;
      handle(event);
    }
  }

  /** Delivers the unterminated tail, if any. */
  @Override
  public void endOfStream() {
    LineBuffer lines = buffer;
    if (lines == null) {
      return;
    }
    int event = lines.finish();
    if (event != LineBuffer.NONE) {
      handle(event);
    }
  }

  private void handle(int event) {
    LineBuffer buffer = requireNonNull(this.buffer);
    if (event == LineBuffer.TOO_LONG) {
      scope.counters.add(Counter.TOO_LONG, 1);
      long length = buffer.tooLongLength();
      LineServerListener listener = scope.settings.listener();
      if (!scope.givenUp.getAsBoolean()) {
        Events.report(() -> listener.lineTooLong(peer, length));
      }
      return;
    }
    ByteBuffer bytes = buffer.lineBytes();
    int start = buffer.lineStart();
    int length = buffer.lineLength();
    if (queue != null) {
      queue.offer(bytes, start, length);
      return;
    }
    if (scope.givenUp.getAsBoolean()) {
      scope.counters.addShared(Counter.LINES_DROPPED, 1); // close() gave up on this thread's sink
      return;
    }
    scope.counters.add(Counter.LINES, 1);
    restart(deliver(bytes, start, length), false);
  }

  /**
   * After a line's failure, re-creates the line buffer, which takes over the unread input (with
   * {@code resync}, from the next LF: the buffer itself failed); past the restart intensity,
   * closes.
   */
  private void restart(SinkCall.Outcome outcome, boolean resync) {
    switch (outcome) {
      case DELIVERED -> {}
      case FAILED -> buffer = requireNonNull(buffer).restart(resync);
      case RESTART_LIMIT -> context.close(CloseReason.RESTART_LIMIT);
      case CRASHED -> context.close(CloseReason.SERVER_ERROR);
    }
  }

  @Override
  public ByteBuffer outbound() {
    return context.sends();
  }

  @Override
  public @Nullable String handshake() {
    return null;
  }

  @Override
  public boolean holdsPartialInput() {
    LineBuffer lines = buffer;
    return lines != null && lines.hasPartialLine();
  }

  @Override
  public void closed() {}
}
