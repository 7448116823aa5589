package dev.lineserver;

/**
 * Receives every complete line, decoded with the server's charset, without its line terminator.
 *
 * <p>Threading: a sink is called on the I/O thread that owns the connection (or, with {@link
 * LineServer.Builder#sinkExecutor}, on the executor's threads), in the order the lines arrived,
 * never concurrently for one connection. Lines of different connections may arrive concurrently on
 * different I/O threads, so a sink shared by all connections must be thread-safe. A sink that
 * blocks also delays every other connection served by the same I/O thread.
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
