/**
 * The line-server examples. Reading {@code dev.lineserver} as a module proves they use only the
 * exported API, never {@code dev.lineserver.internal}. Micrometer's jars are automatic modules,
 * named by their manifests' {@code Automatic-Module-Name}: hence the suppressed lint.
 */
@SuppressWarnings("requires-automatic")
module dev.lineserver.examples {
  requires dev.lineserver;
  requires jdk.httpserver;
  requires micrometer.core;
  requires micrometer.registry.prometheus;
  requires static org.jspecify;
}
