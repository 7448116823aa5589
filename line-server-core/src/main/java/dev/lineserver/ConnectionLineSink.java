package dev.lineserver;

/**
 * A {@link LineSink} that also receives the connection each line came from.
 *
 * <p>The same threading and failure rules as {@link LineSink} apply: called on the connection's I/O
 * thread or the sink executor, in arrival order, never concurrently for one connection.
 *
 * <pre>{@code
 * LineServer.builder()
 *     .connectionSink((connection, line) -> log(connection.remoteAddress(), line))
 *     .start();
 * }</pre>
 */
@FunctionalInterface
public interface ConnectionLineSink {

  /**
   * Accepts one line.
   *
   * @param connection the connection the line arrived on; the same object for every line of it
   * @param line the line, without the LF and without a CR right before it
   * @throws Exception to reject the line; it is reported to the listener and the connection goes on
   */
  void accept(ConnectionInfo connection, String line) throws Exception;
}
