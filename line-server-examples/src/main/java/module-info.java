/**
 * The line-server examples. Reading {@code dev.lineserver} as a module proves they use only the
 * exported API, never {@code dev.lineserver.internal}.
 */
module dev.lineserver.examples {
  requires dev.lineserver;
  requires static org.jspecify;
}
