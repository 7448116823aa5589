package dev.lineserver.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lineserver.CloseReason;
import dev.lineserver.ConnectionInfo;
import dev.lineserver.LineServerListener;
import dev.lineserver.RefusalReason;
import java.io.IOException;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * A listener that records every event it is told of, one {@link Recorded} per method, for a test to
 * wait for with a timeout or to look at. It logs nothing and forwards nothing: a server run with it
 * reports to the test alone. Safe from every thread the server calls it on.
 */
public final class ListenerEvents implements LineServerListener {
  /** {@link LineServerListener#connectionOpened}. */
  public record Opened(ConnectionInfo connection) {}

  /** {@link LineServerListener#connectionClosed}. */
  public record Closed(ConnectionInfo connection, CloseReason reason) {}

  /** {@link LineServerListener#lineTooLong}. */
  public record TooLong(ConnectionInfo connection, long length) {}

  /** {@link LineServerListener#sinkFailed}. */
  public record SinkFailed(ConnectionInfo connection, @Nullable String line, Exception error) {}

  /** {@link LineServerListener#sinkError}. */
  public record SinkError(ConnectionInfo connection, @Nullable String line, Error error) {}

  /** {@link LineServerListener#restartLimitReached}. */
  public record RestartLimit(ConnectionInfo connection, int maxRestarts, Duration period) {}

  /** {@link LineServerListener#connectionRefused}. */
  public record Refused(SocketAddress remoteAddress, RefusalReason reason) {}

  /** {@link LineServerListener#handshakeFailed}. */
  public record HandshakeFailed(ConnectionInfo connection, Exception error) {}

  /** {@link LineServerListener#acceptFailed}. */
  public record AcceptFailed(IOException error) {}

  public final Recorded<Opened> opened = new Recorded<>("connectionOpened");
  public final Recorded<Closed> closed = new Recorded<>("connectionClosed");
  public final Recorded<TooLong> tooLong = new Recorded<>("lineTooLong");
  public final Recorded<SinkFailed> sinkFailed = new Recorded<>("sinkFailed");
  public final Recorded<SinkError> sinkError = new Recorded<>("sinkError");
  public final Recorded<RestartLimit> restartLimit = new Recorded<>("restartLimitReached");
  public final Recorded<Refused> refused = new Recorded<>("connectionRefused");
  public final Recorded<HandshakeFailed> handshakeFailed = new Recorded<>("handshakeFailed");
  public final Recorded<AcceptFailed> acceptFailed = new Recorded<>("acceptFailed");

  @Override
  public void connectionOpened(ConnectionInfo connection) {
    opened.add(new Opened(connection));
  }

  @Override
  public void connectionClosed(ConnectionInfo connection, CloseReason reason) {
    closed.add(new Closed(connection, reason));
  }

  @Override
  public void lineTooLong(ConnectionInfo connection, long length) {
    tooLong.add(new TooLong(connection, length));
  }

  @Override
  public void sinkFailed(ConnectionInfo connection, @Nullable String line, Exception error) {
    sinkFailed.add(new SinkFailed(connection, line, error));
  }

  @Override
  public void sinkError(ConnectionInfo connection, @Nullable String line, Error error) {
    sinkError.add(new SinkError(connection, line, error));
  }

  @Override
  public void restartLimitReached(ConnectionInfo connection, int maxRestarts, Duration period) {
    restartLimit.add(new RestartLimit(connection, maxRestarts, period));
  }

  @Override
  public void connectionRefused(SocketAddress remoteAddress, RefusalReason reason) {
    refused.add(new Refused(remoteAddress, reason));
  }

  @Override
  public void handshakeFailed(ConnectionInfo connection, Exception error) {
    handshakeFailed.add(new HandshakeFailed(connection, error));
  }

  @Override
  public void acceptFailed(IOException error) {
    acceptFailed.add(new AcceptFailed(error));
  }

  /**
   * The events of one listener method: the server's threads queue them, the test takes them from
   * the queue with a timeout into {@code seen}, where they stay. So an event matches every wait for
   * it, whichever came first, and waiting for one event passes over none of the others.
   */
  public static final class Recorded<E> {
    private final String method;
    private final BlockingQueue<E> arrivals = new LinkedBlockingQueue<>();
    private final List<E> seen = new ArrayList<>(); // guarded by this

    Recorded(String method) {
      this.method = method;
    }

    void add(E event) {
      arrivals.add(event);
    }

    /**
     * The first event matching {@code matching}, recorded already or within {@link
     * Lines#TIMEOUT_SECONDS}; fails the test if none comes.
     */
    public E await(Predicate<? super E> matching) throws InterruptedException {
      return await(1, matching).get(0);
    }

    /**
     * Waits up to {@link Lines#TIMEOUT_SECONDS} until {@code count} events match, and fails the
     * test unless exactly {@code count} do then. Returns them.
     */
    public synchronized List<E> await(int count, Predicate<? super E> matching)
        throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Lines.TIMEOUT_SECONDS);
      List<E> found = matching(matching);
      while (found.size() < count) {
        long left = deadline - System.nanoTime();
        @Nullable E next = arrivals.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
        if (next == null) {
          break;
        }
        seen.add(next);
        if (matching.test(next)) {
          found.add(next);
        }
      }
      assertThat(found)
          .as(
              "%s calls matching, within %d s; all of them: %s",
              method, Lines.TIMEOUT_SECONDS, seen)
          .hasSize(count);
      return found;
    }

    /** The events recorded so far that match {@code matching}, without waiting. */
    public synchronized List<E> matching(Predicate<? super E> matching) {
      arrivals.drainTo(seen);
      List<E> found = new ArrayList<>();
      for (E event : seen) {
        if (matching.test(event)) {
          found.add(event);
        }
      }
      return found;
    }

    /** Every event recorded so far, without waiting. */
    public List<E> all() {
      return matching(event -> true);
    }
  }
}
