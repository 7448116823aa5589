package dev.lineserver;

/**
 * Receives every complete line, decoded with the server's charset, without its line terminator.
 *
 * <p>Threading: the lines of one connection reach the sink in the order they arrived, one call at a
 * time, each call done before the next begins; the connection's {@link
 * LineServerListener#connectionOpened} comes before the first and its {@link
 * LineServerListener#connectionClosed} after the last. Without a {@link
 * LineServer.Builder#sinkExecutor}, the sink is called on the I/O thread that owns the connection,
 * and a sink that blocks delays every other connection served by that thread. With one, it is
 * called on the executor's threads, one task at a time per connection: successive lines of a
 * connection may run on different threads, and the I/O thread goes on reading meanwhile. Either way
 * the lines of different connections may arrive concurrently, so a sink shared by all connections
 * must be thread-safe.
 *
 * <p>Failure: a sink that throws an {@link Exception} loses only the line it was given; the
 * connection's line buffer is re-created and the following lines are delivered. Too many failures
 * on one connection within the restart period close that connection (see {@link
 * LineServer.Builder#restartIntensity(int, java.time.Duration)}). An {@link Error} loses its line
 * and closes its connection alone ({@link CloseReason#SERVER_ERROR}, reported to {@link
 * LineServerListener#sinkError}); only {@link OutOfMemoryError}, {@link InternalError} and {@link
 * UnknownError} are rethrown after that.
 */
@FunctionalInterface
public interface LineSink {

  /**
   * Accepts one line.
   *
   * @param line the line, without the LF and without a CR right before it
   * @throws Exception to reject the line; it is reported to the listener and the connection goes on
   */
  void accept(String line) throws Exception;
}
