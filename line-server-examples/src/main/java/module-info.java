/**
 * The line-server examples. Reading {@code dev.lineserver} as a module proves they use only the
 * exported API, never {@code dev.lineserver.internal}. Micrometer's and Prometheus' jars are
 * automatic modules, named by their manifests' {@code Automatic-Module-Name}: hence the suppressed
 * lint.
 */
@SuppressWarnings("requires-automatic")
module dev.lineserver.examples {
  requires dev.lineserver;
  requires jdk.httpserver;
  requires info.picocli;
  requires micrometer.core;
  requires micrometer.registry.prometheus;
  requires dev.lineserver.micrometer;
  requires io.prometheus.writer.text; // ExpositionFormats, an automatic module too
  requires static org.jspecify;
  // An automatic module: kafka-clients has no module-info and no Automatic-Module-Name, so the
  // name comes from its file name, kafka-clients-4.4.0.jar.
  requires kafka.clients;

  // picocli fills the @Option fields of the programs' Arguments by reflection.
  opens dev.lineserver.examples to
      info.picocli;
}
