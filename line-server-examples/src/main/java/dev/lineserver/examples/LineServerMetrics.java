package dev.lineserver.examples;

import dev.lineserver.CloseReason;
import dev.lineserver.LineServer;
import dev.lineserver.LineServerStats;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * Publishes a {@link LineServer}'s {@link LineServer#stats() stats} to Micrometer: a function
 * counter for each monotonic counter, a gauge for connections open and sink bytes pending, each
 * with the tags given here (say {@code server=ingest}).
 *
 * <pre>{@code
 * new LineServerMetrics(server, Tags.of("server", "ingest")).bindTo(registry);
 * }</pre>
 *
 * <p>In Prometheus' text format the meters read {@code lineserver_connections_accepted_total},
 * {@code lineserver_connections_refused_total}, {@code lineserver_connections_closed_total{reason=
 * "peer_eof"}} (one series per {@link CloseReason}, all present from the start), {@code
 * lineserver_connections_open}, {@code lineserver_received_bytes_total}, {@code
 * lineserver_lines_total}, {@code lineserver_lines_too_long_total}, {@code
 * lineserver_sink_failures_total}, {@code lineserver_restart_limits_reached_total}, {@code
 * lineserver_reads_paused_total} and {@code lineserver_sink_pending_bytes}.
 *
 * <p>Each meter takes a fresh {@code stats()} snapshot when it is read, nothing is cached: a
 * snapshot is a few dozen reads, a scrape reads twenty meters, and no cache means no stale figure,
 * no clock and no shared state between scrape threads. As within one snapshot, figures of one
 * scrape may be a few events apart. The meters hold the server weakly, as Micrometer's binders do:
 * keep the server referenced while it serves (its meters read NaN once it has been collected).
 */
public final class LineServerMetrics implements MeterBinder {
  private final LineServer server;
  private final Tags tags;

  /**
   * @param tags added to every meter, e.g. {@code Tags.of("server", "ingest")} to tell servers of
   *     one process apart
   */
  public LineServerMetrics(LineServer server, Iterable<Tag> tags) {
    this.server = server;
    this.tags = Tags.of(tags);
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    counter(
        registry,
        "lineserver.connections.accepted",
        "Connections accepted from the kernel, refused ones included",
        LineServerStats::connectionsAccepted);
    counter(
        registry,
        "lineserver.connections.refused",
        "Connections reset at accept by a connection limit or an allow/deny range",
        LineServerStats::connectionsRefused);
    for (CloseReason reason : CloseReason.values()) {
      FunctionCounter.builder(
              "lineserver.connections.closed",
              server,
              s -> s.stats().connectionsClosed().getOrDefault(reason, 0L))
          .description("Connections closed, by reason")
          .tags(tags)
          .tag("reason", reason.name().toLowerCase(Locale.ROOT))
          .register(registry);
    }
    Gauge.builder("lineserver.connections.open", server, s -> s.stats().connectionsOpen())
        .description("Connections accepted and not yet closed or refused")
        .tags(tags)
        .register(registry);
    FunctionCounter.builder("lineserver.received", server, s -> s.stats().bytesReceived())
        .description("Bytes read from connections")
        .baseUnit(BaseUnits.BYTES)
        .tags(tags)
        .register(registry);
    counter(
        registry,
        "lineserver.lines",
        "Complete lines within maxLineLength handed to the sink",
        LineServerStats::lines);
    counter(
        registry,
        "lineserver.lines.too.long",
        "Lines discarded for being longer than maxLineLength",
        LineServerStats::linesTooLong);
    counter(
        registry,
        "lineserver.sink.failures",
        "Lines the sink threw for or that failed to decode",
        LineServerStats::sinkFailures);
    counter(
        registry,
        "lineserver.restart.limits.reached",
        "Connections closed for failing more often than the restart intensity allows",
        LineServerStats::restartLimitsReached);
    counter(
        registry,
        "lineserver.reads.paused",
        "Times a connection stopped reading because the sink executor's byte budget was spent",
        LineServerStats::readsPaused);
    Gauge.builder("lineserver.sink.pending", server, s -> s.stats().sinkPendingBytes())
        .description("Bytes of lines read and not yet through a sink running on an executor")
        .baseUnit(BaseUnits.BYTES)
        .tags(tags)
        .register(registry);
  }

  private void counter(
      MeterRegistry registry,
      String name,
      String description,
      ToDoubleFunction<LineServerStats> figure) {
    FunctionCounter.builder(name, server, s -> figure.applyAsDouble(s.stats()))
        .description(description)
        .tags(tags)
        .register(registry);
  }
}
