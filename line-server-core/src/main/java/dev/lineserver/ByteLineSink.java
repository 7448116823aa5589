package dev.lineserver;

/**
 * Receives every complete line as bytes, without decoding or copying it: the zero-allocation path.
 *
 * <p>The {@link Line} is valid only during this call (see {@link Line}). Threading and failure
 * rules are those of {@link LineSink}: called on the connection's I/O thread, or with a {@link
 * LineServer.Builder#sinkExecutor} on the executor's threads, in arrival order and never
 * concurrently for one connection; an exception loses only this line. With a sink executor, each
 * line is copied once, into the queue the executor's task reads it from.
 */
@FunctionalInterface
public interface ByteLineSink {

  /**
   * Accepts one line.
   *
   * @param connection the connection the line arrived on
   * @param line the line's bytes, without the LF and without a CR right before it; valid only until
   *     this method returns
   * @throws Exception to reject the line; it is reported to the listener and the connection goes on
   */
  void accept(ConnectionInfo connection, Line line) throws Exception;
}
