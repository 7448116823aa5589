package dev.lineserver.internal;

import static java.util.Objects.requireNonNull;

import dev.lineserver.ByteLineSink;
import dev.lineserver.ConnectionLineSink;
import dev.lineserver.LineServerListener;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.CoderMalfunctionError;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Hands one connection's lines to the sink and keeps the books on its failures: counts and reports
 * each, and tells, by the restart intensity, whether the connection may go on. Used by one thread
 * at a time: the connection's I/O thread, or the task draining its {@link SinkQueue}. Whatever the
 * sink throws ends here but for the errors of a failing JVM ({@link Events#isFatal}), which are
 * reported and then rethrown. On the I/O thread, the {@link LineStage} is the sink call: it extends
 * this class rather than holding one, as an idle connection's heap is mostly its objects.
 */
class SinkCall {
  /** What became of a line or a failure. */
  enum Outcome {
    /** The sink took the line. */
    DELIVERED,
    /** The line failed and is lost; the connection goes on. */
    FAILED,
    /** The failure made too many within the restart period: the connection must close. */
    RESTART_LIMIT,
    /** The sink threw an {@link Error}: the connection must close with {@code SERVER_ERROR}. */
    CRASHED
  }

  /**
   * What the sink calls of one I/O loop (or of one {@link SinkQueue}) share, so that each call
   * holds one reference to it: the settings, the counters, the sink, and whether {@code close()}
   * gave up on them (then they report nothing). A loop's scope also keeps one spare {@link
   * LineBuffer} for its {@link LineStage}s: a connection holds a line buffer only while a line of
   * it is partial, so an idle one holds none; the loop's thread alone takes and gives it.
   */
  static final class Scope {
    final Settings settings;
    final Counters counters;
    final BooleanSupplier givenUp;
    final @Nullable ConnectionLineSink stringSink;
    final @Nullable ByteLineSink byteSink;
    final Charset charset;

    private @Nullable LineBuffer spare;

    Scope(Settings settings, Counters counters, BooleanSupplier givenUp) {
      this.settings = settings;
      this.counters = counters;
      this.givenUp = givenUp;
      this.stringSink = settings.sink().stringSink();
      this.byteSink = settings.sink().byteSink();
      this.charset = settings.framing().charset();
    }

    /** An empty line buffer for a read: the spare, else a new one. */
    LineBuffer takeLineBuffer() {
      LineBuffer buffer = spare;
      if (buffer != null) {
        spare = null;
        return buffer;
      }
      Settings.Framing framing = settings.framing();
      return new LineBuffer(framing.maxLineLength(), framing.delimiter());
    }

    /** A line buffer that holds no partial line, given back after a read. */
    void spareLineBuffer(LineBuffer buffer) {
      buffer.releaseIfEmpty();
      spare = buffer;
    }
  }

  final Peer peer;
  final Scope scope;
  private @Nullable RestartIntensity restarts;
  private @Nullable LineView view;

  SinkCall(Peer peer, Scope scope) {
    this.peer = peer;
    this.scope = scope;
  }

  /** Decodes the line, at absolute indexes of {@code bytes}, if the sink takes Strings. */
  Outcome deliver(ByteBuffer bytes, int start, int length) {
    ByteLineSink byteSink = scope.byteSink;
    if (byteSink != null) {
      LineView line = view;
      if (line == null) {
        line = view = new LineView(scope.charset);
      }
      try {
        byteSink.accept(peer, line.set(bytes, start, length));
        return Outcome.DELIVERED;
      } catch (Exception e) {
        return failed(decodeForReport(line), e);
      } catch (Error e) {
        return crashed(decodeForReport(line), e);
      }
    }
    String line;
    try {
      line = LineView.decode(bytes, start, length, scope.charset);
    } catch (RuntimeException e) {
      return failed(null, e);
    } catch (CoderMalfunctionError e) {
      // A charset's decoder threw: a failure of this line's decoding, not of the JVM.
      return failed(
          null, e.getCause() instanceof Exception cause ? cause : new IllegalStateException(e));
    }
    try {
      requireNonNull(scope.stringSink).accept(peer, line);
      return Outcome.DELIVERED;
    } catch (Exception e) {
      return failed(line, e);
    } catch (Error e) {
      return crashed(line, e);
    }
  }

  /** The line as a String for a report, or null if the charset cannot decode it. */
  private static @Nullable String decodeForReport(LineView line) {
    try {
      return line.asString();
    } catch (RuntimeException | CoderMalfunctionError e) {
      return null;
    }
  }

  /**
   * Counts and reports a failure of the sink (with its line), of decoding or of the line buffer
   * (line {@code null}); past the restart intensity, reports that too.
   */
  Outcome failed(@Nullable String line, Exception error) {
    scope.counters.addShared(Counter.SINK_FAILURES, 1);
    LineServerListener listener = scope.settings.listener();
    if (!scope.givenUp.getAsBoolean()) {
      Events.report(() -> listener.sinkFailed(peer, line, error));
    }
    Settings.Supervision supervision = scope.settings.supervision();
    RestartIntensity intensity = restarts;
    if (intensity == null) {
      intensity =
          restarts =
              new RestartIntensity(supervision.maxRestarts(), supervision.restartPeriodNanos());
    }
    if (intensity.allow(System.nanoTime())) {
      return Outcome.FAILED;
    }
    scope.counters.addShared(Counter.RESTART_LIMITS, 1);
    if (scope.givenUp.getAsBoolean()) {
      return Outcome.RESTART_LIMIT;
    }
    Events.report(
        () ->
            listener.restartLimitReached(
                peer,
                supervision.maxRestarts(),
                Duration.ofNanos(supervision.restartPeriodNanos())));
    return Outcome.RESTART_LIMIT;
  }

  /** Counts and reports an {@link Error} of the sink; rethrows it if the JVM is failing. */
  private Outcome crashed(@Nullable String line, Error error) {
    scope.counters.addShared(Counter.SINK_FAILURES, 1);
    LineServerListener listener = scope.settings.listener();
    if (!scope.givenUp.getAsBoolean()) {
      Events.report(() -> listener.sinkError(peer, line, error));
    }
    Events.rethrowIfFatal(error);
    return Outcome.CRASHED;
  }
}
