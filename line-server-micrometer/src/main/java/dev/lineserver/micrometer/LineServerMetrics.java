package dev.lineserver.micrometer;

import static java.util.Objects.requireNonNull;

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
import org.jspecify.annotations.Nullable;

/**
 * Publishes a {@link LineServer}'s {@link LineServer#stats() stats} to Micrometer: a {@link
 * FunctionCounter} for each counter, a {@link Gauge} for what goes up and down, each with the tags
 * given here (say {@code server=ingest}) and, where one stats field is split, a tag of its own.
 *
 * <pre>{@code
 * new LineServerMetrics(server, Tags.of("server", "ingest")).bindTo(registry);
 * }</pre>
 *
 * <p>The meters, with their names in Prometheus' format:
 *
 * <ul>
 *   <li>{@code lineserver.connections.open} ({@code lineserver_connections_open}), gauge: {@link
 *       LineServerStats#connectionsOpen()}
 *   <li>{@code lineserver.connections.accepted} ({@code lineserver_connections_accepted_total}):
 *       {@link LineServerStats#connectionsAccepted()}
 *   <li>{@code lineserver.connections.refused} ({@code lineserver_connections_refused_total}):
 *       {@link LineServerStats#connectionsRefused()}, refused at accept
 *   <li>{@code lineserver.connections.closed{reason}} ({@code
 *       lineserver_connections_closed_total{reason="peer_eof"}}): {@link
 *       LineServerStats#connectionsClosed()}, one series per {@link CloseReason}, its name in lower
 *       case, every one present from the start
 *   <li>{@code lineserver.lines{outcome}} ({@code lineserver_lines_total{outcome="delivered"}}):
 *       what became of the lines read, one series per outcome, disjoint so that their sum is every
 *       line read: {@code delivered} ({@link LineServerStats#lines()}: handed to the sink, those it
 *       threw for included), {@code too_long} ({@link LineServerStats#linesTooLong()}), {@code
 *       dropped} ({@link LineServerStats#linesDropped()}) and {@code partial_dropped} ({@link
 *       LineServerStats#partialLinesDropped()})
 *   <li>{@code lineserver.sink.failures} ({@code lineserver_sink_failures_total}): {@link
 *       LineServerStats#sinkFailures()}; not an outcome of {@code lineserver.lines}, since a line
 *       the sink threw for was delivered
 *   <li>{@code lineserver.sink.pending} ({@code lineserver_sink_pending_bytes}), gauge, bytes:
 *       {@link LineServerStats#sinkPendingBytes()}
 *   <li>{@code lineserver.reads.paused} ({@code lineserver_reads_paused_total}): {@link
 *       LineServerStats#readsPaused()}
 *   <li>{@code lineserver.restart.limits.reached} ({@code
 *       lineserver_restart_limits_reached_total}): {@link LineServerStats#restartLimitsReached()}
 *   <li>{@code lineserver.received} ({@code lineserver_received_bytes_total}), bytes: {@link
 *       LineServerStats#bytesReceived()}
 *   <li>{@code lineserver.sent} ({@code lineserver_sent_bytes_total}), bytes: {@link
 *       LineServerStats#bytesSent()}
 *   <li>{@code lineserver.sends.refused} ({@code lineserver_sends_refused_total}): {@link
 *       LineServerStats#sendsRefused()}
 *   <li>{@code lineserver.sends.dropped} ({@code lineserver_sends_dropped_bytes_total}), bytes:
 *       {@link LineServerStats#sendBytesDropped()}
 * </ul>
 *
 * <p>Meters may be added in minor versions; names, tags and units stay.
 *
 * <p>Each meter takes a fresh {@code stats()} snapshot when it is read: a snapshot sums a few dozen
 * counters per I/O thread without locking, a few hundred nanoseconds, so a scrape of all the meters
 * costs some microseconds, and no cache means no stale figure, no clock and no state shared between
 * scrape threads. As within one snapshot, the figures of one scrape may be a few events apart.
 *
 * <p>The meters hold the server weakly, as Micrometer's own binders hold what they observe: keep
 * the server referenced while it serves (its meters read {@code NaN} once it has been collected). A
 * closed server's meters keep its final figures; remove them from the registry if they should go.
 */
public final class LineServerMetrics implements MeterBinder {
  private final LineServer server;
  private final Tags tags;

  /**
   * Meters for {@code server}, to be bound to a registry with {@link #bindTo}.
   *
   * @param server the server whose {@link LineServer#stats() stats} the meters read; held weakly by
   *     the meters, strongly by this binder
   * @param tags added to every meter, e.g. {@code Tags.of("server", "ingest")} to tell servers of
   *     one process apart
   */
  public LineServerMetrics(LineServer server, Iterable<Tag> tags) {
    this.server = requireNonNull(server, "server");
    this.tags = Tags.of(requireNonNull(tags, "tags"));
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    Gauge.builder("lineserver.connections.open", server, s -> s.stats().connectionsOpen())
        .description("Connections accepted and not yet closed or refused")
        .tags(tags)
        .register(registry);
    counter(
        registry,
        "lineserver.connections.accepted",
        "Connections accepted from the kernel, refused ones included",
        null,
        Tags.empty(),
        LineServerStats::connectionsAccepted);
    counter(
        registry,
        "lineserver.connections.refused",
        "Connections closed at accept by a connection limit or an allow/deny range",
        null,
        Tags.empty(),
        LineServerStats::connectionsRefused);
    for (CloseReason reason : CloseReason.values()) {
      counter(
          registry,
          "lineserver.connections.closed",
          "Connections closed, by reason",
          null,
          Tags.of("reason", lowerCase(reason)),
          stats -> stats.connectionsClosed().getOrDefault(reason, 0L));
    }
    lines(registry, "delivered", LineServerStats::lines);
    lines(registry, "too_long", LineServerStats::linesTooLong);
    lines(registry, "dropped", LineServerStats::linesDropped);
    lines(registry, "partial_dropped", LineServerStats::partialLinesDropped);
    counter(
        registry,
        "lineserver.sink.failures",
        "Lines the sink threw for or that failed to decode, and line buffer failures",
        null,
        Tags.empty(),
        LineServerStats::sinkFailures);
    Gauge.builder("lineserver.sink.pending", server, s -> s.stats().sinkPendingBytes())
        .description("Heap held by lines read and not yet through a sink running on an executor")
        .baseUnit(BaseUnits.BYTES)
        .tags(tags)
        .register(registry);
    counter(
        registry,
        "lineserver.reads.paused",
        "Times a connection stopped reading because the sink executor's byte budget was spent",
        null,
        Tags.empty(),
        LineServerStats::readsPaused);
    counter(
        registry,
        "lineserver.restart.limits.reached",
        "Connections closed for failing more often than the restart intensity allows",
        null,
        Tags.empty(),
        LineServerStats::restartLimitsReached);
    counter(
        registry,
        "lineserver.received",
        "Bytes read from connections",
        BaseUnits.BYTES,
        Tags.empty(),
        LineServerStats::bytesReceived);
    counter(
        registry,
        "lineserver.sent",
        "Bytes written to connections, with TLS its records and handshakes",
        BaseUnits.BYTES,
        Tags.empty(),
        LineServerStats::bytesSent);
    counter(
        registry,
        "lineserver.sends.refused",
        "Sends refused because the connection's send queue was full",
        null,
        Tags.empty(),
        LineServerStats::sendsRefused);
    counter(
        registry,
        "lineserver.sends.dropped",
        "Bytes queued by a send and never written, because their connection failed first",
        BaseUnits.BYTES,
        Tags.empty(),
        LineServerStats::sendBytesDropped);
  }

  private void lines(MeterRegistry registry, String outcome, ToDoubleFunction<LineServerStats> n) {
    counter(
        registry,
        "lineserver.lines",
        "Lines read, by what became of them",
        null,
        Tags.of("outcome", outcome),
        n);
  }

  /** The function reads {@code stats()} of the server it is given: it must not capture it. */
  private void counter(
      MeterRegistry registry,
      String name,
      String description,
      @Nullable String baseUnit,
      Tags extra,
      ToDoubleFunction<LineServerStats> figure) {
    FunctionCounter.builder(name, server, s -> figure.applyAsDouble(s.stats()))
        .description(description)
        .baseUnit(baseUnit)
        .tags(tags)
        .tags(extra)
        .register(registry);
  }

  private static String lowerCase(Enum<?> constant) {
    return constant.name().toLowerCase(Locale.ROOT);
  }
}
