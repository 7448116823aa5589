/**
 * Micrometer meters for a line-server: {@link dev.lineserver.micrometer.LineServerMetrics}.
 * Micrometer's core jar is an automatic module, named by its manifest's {@code
 * Automatic-Module-Name}: hence the suppressed lints. It is required transitively, as is the core,
 * because the binder's API speaks of both ({@code MeterBinder}, {@code Tag}, {@code LineServer}).
 */
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"})
module dev.lineserver.micrometer {
  requires transitive dev.lineserver;
  requires transitive micrometer.core;
  requires static org.jspecify;

  exports dev.lineserver.micrometer;
}
