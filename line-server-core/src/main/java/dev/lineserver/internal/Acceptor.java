package dev.lineserver.internal;

import dev.lineserver.CloseReason;
import dev.lineserver.LineServerListener;
import dev.lineserver.RefusalReason;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The acceptor thread: waits on its own selector for the listening channel, accepts every waiting
 * connection, admits or refuses each, sets TCP keepalive on admitted ones and deals them
 * round-robin to the running I/O loops. Asked to {@link #stop}, it accepts what already waits in
 * the kernel's backlog, so that those connections are drained like the others, then closes the
 * listening channel. When accepting fails (out of file descriptors, say) it backs off, 100 ms
 * doubling to 1 s, reporting the first failure of a run and the recovery once. Only its own thread
 * touches its fields but {@link #counters} and {@code stopping}.
 */
final class Acceptor implements Runnable {
  static final long FIRST_BACKOFF_MILLIS = 100;
  static final long MAX_BACKOFF_MILLIS = TimeUnit.SECONDS.toMillis(1);

  private static final AtomicLong IDS = new AtomicLong();

  private final ServerSocketChannel server;
  private final Selector selector;
  private final IoLoop[] loops;
  private final Admission admission;
  private final KeepAlive keepAlive;
  private final LineServerListener listener;
  private final Counters counters = new Counters();
  private final Reports reports;
  private final Logger log;
  private volatile boolean stopping;
  private int nextLoop;
  private long failures;
  private long backoffMillis = FIRST_BACKOFF_MILLIS;

  /** Takes over {@code server}, which it makes non-blocking and closes when it ends. */
  Acceptor(ServerSocketChannel server, IoLoop[] loops, Settings settings, Services services)
      throws IOException {
    this.reports = services.reports();
    this.log = reports.log;
    this.server = server;
    this.loops = loops.clone();
    this.admission = services.admission();
    this.keepAlive = settings.keepAlive();
    this.listener = settings.listener();
    this.selector = Selector.open();
    try {
      server.configureBlocking(false);
      server.register(selector, SelectionKey.OP_ACCEPT);
    } catch (IOException | RuntimeException e) {
      selector.close();
      throw e;
    }
  }

  /** Connections accepted and refused; readable from any thread. */
  Counters counters() {
    return counters;
  }

  /** Asks the thread to accept what waits in the backlog, close the channel and end. */
  void stop() {
    stopping = true;
    selector.wakeup();
  }

  @Override
  public void run() {
    Callbacks.enter(reports); // for good: the listener's defaults log for this server
    try {
      SelectionKey key = server.keyFor(selector);
      while (!stopping) {
        // A listener that left the interrupt flag set would make every select return at once.
        Thread.interrupted();
        // Until a connection waits or stop(); after failures, the back-off (with the key quiet).
        selector.select(failures == 0 ? 0 : backoffMillis);
        selector.selectedKeys().clear();
        if (stopping) {
          break;
        }
        key.interestOps(acceptWaitingContained() ? SelectionKey.OP_ACCEPT : 0);
      }
      acceptWaitingContained();
    } catch (IOException e) {
      log.log(Level.ERROR, "acceptor failed; accepting no more connections", e);
    } finally {
      closeQuietly(server);
      closeQuietly(selector);
    }
  }

  /**
   * {@link #acceptWaiting}, surviving whatever is not an error of a failing JVM: a connection it
   * broke on is lost, accepting goes on. False (back off) if it failed.
   */
  private boolean acceptWaitingContained() {
    try {
      return acceptWaiting();
    } catch (RuntimeException | Error e) {
      Events.rethrowIfFatal(e);
      reports.unexpected.log(Level.ERROR, () -> "acceptor: " + e + "; accepting goes on", e);
      failures++;
      return false;
    }
  }

  /** Accepts until the backlog is empty; false if accepting failed. */
  private boolean acceptWaiting() {
    while (server.isOpen()) {
      SocketChannel channel;
      try {
        channel = server.accept();
      } catch (IOException e) {
        if (stopping && !server.isOpen()) {
          return true; // closed under us by close(): not a failure to report
        }
        if (failures++ == 0) {
          Events.report(() -> listener.acceptFailed(e));
        } else {
          backoffMillis = Math.min(2 * backoffMillis, MAX_BACKOFF_MILLIS);
        }
        return false;
      }
      if (channel == null) {
        return true;
      }
      if (failures > 0) {
        long failed = failures;
        log.log(Level.INFO, () -> "accepting again after " + failed + " failed accepts");
        failures = 0;
        backoffMillis = FIRST_BACKOFF_MILLIS;
      }
      counters.add(Counter.ACCEPTED, 1);
      dispatch(channel);
    }
    return true;
  }

  private void dispatch(SocketChannel channel) {
    Peer peer;
    try {
      peer =
          new Peer(
              IDS.incrementAndGet(),
              channel.getRemoteAddress(),
              channel.getLocalAddress(),
              reports);
    } catch (IOException e) {
      log.log(Level.DEBUG, () -> "accepted socket failed at once: " + e);
      counters.closed(CloseReason.PEER_RESET);
      closeQuietly(channel);
      return;
    }
    RefusalReason refusal = admission.admit(peer);
    if (refusal != null) {
      refuse(channel, peer.remoteAddress(), refusal);
      return;
    }
    keepAlive.apply(channel, peer.remoteAddress());
    noDelay(channel, peer);
    for (int tries = 0; tries < loops.length; tries++) {
      IoLoop loop = loops[nextLoop];
      nextLoop = (nextLoop + 1) % loops.length;
      if (loop.isRunning()) {
        loop.register(channel, peer);
        return;
      }
    }
    log.log(Level.ERROR, () -> "no I/O thread is running; closing " + peer);
    admission.release(peer);
    counters.closed(CloseReason.SERVER_ERROR);
    closeQuietly(channel);
  }

  /**
   * Turns Nagle's algorithm off on a TCP socket: the connection writes what was sent once per round
   * of its I/O thread already, and Nagle would hold each reply until the peer's delayed ACK, some
   * 40 ms. A Unix-domain socket has no such option.
   */
  private void noDelay(SocketChannel channel, Peer peer) {
    if (!(peer.remoteAddress() instanceof InetSocketAddress)) {
      return;
    }
    try {
      channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
    } catch (IOException | UnsupportedOperationException e) {
      log.log(Level.DEBUG, () -> "TCP_NODELAY on " + peer + " failed: " + e);
    }
  }

  /** Resets the connection, so the client's next read or write fails at once. */
  private void refuse(SocketChannel channel, SocketAddress remote, RefusalReason reason) {
    counters.add(Counter.REFUSED, 1);
    try {
      channel.setOption(StandardSocketOptions.SO_LINGER, 0);
    } catch (IOException | UnsupportedOperationException e) { // a Unix socket has no SO_LINGER
      log.log(Level.DEBUG, () -> "SO_LINGER on a refused socket failed: " + e);
    }
    closeQuietly(channel);
    Events.report(() -> listener.connectionRefused(remote, reason));
  }

  private void closeQuietly(java.io.Closeable closeable) {
    try {
      closeable.close();
    } catch (IOException e) {
      log.log(Level.DEBUG, () -> "closing " + closeable + " failed: " + e);
    }
  }
}
