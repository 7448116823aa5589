/**
 * line-server: an embeddable TCP server that splits each connection's byte stream into lines and
 * hands every complete line to the application's sink.
 *
 * <p>Only {@code dev.lineserver} is exported; the engine in {@code dev.lineserver.internal} is not.
 */
module dev.lineserver {
  requires static transitive org.jspecify;
  requires jdk.net; // TCP keepalive timings; the options are unsupported on some platforms

  exports dev.lineserver;
}
