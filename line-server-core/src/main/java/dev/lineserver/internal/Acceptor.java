package dev.lineserver.internal;

import dev.lineserver.CloseReason;
import dev.lineserver.LineServerListener;
import dev.lineserver.RefusalReason;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The acceptor thread: accepts on the blocking listening channel, admits or refuses each
 * connection, and deals admitted ones round-robin to the running I/O loops. Ends when the listening
 * channel is closed. When accepting fails (out of file descriptors, say) it backs off, 100 ms
 * doubling to 1 s, reporting the first failure of a run and the recovery once. Only its own thread
 * touches its fields but {@link #counters}.
 */
public final class Acceptor implements Runnable {
  static final long FIRST_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
  static final long MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(1);

  private static final AtomicLong IDS = new AtomicLong();

  private final ServerSocketChannel server;
  private final IoLoop[] loops;
  private final Admission admission;
  private final LineServerListener listener;
  private final Counters counters = new Counters();
  private int nextLoop;

  public Acceptor(
      ServerSocketChannel server,
      IoLoop[] loops,
      Admission admission,
      LineServerListener listener) {
    this.server = server;
    this.loops = loops.clone();
    this.admission = admission;
    this.listener = listener;
  }

  /** Connections accepted and refused; readable from any thread. */
  public Counters counters() {
    return counters;
  }

  @Override
  public void run() {
    long failures = 0;
    long backoff = FIRST_BACKOFF_NANOS;
    while (server.isOpen()) {
      SocketChannel channel;
      try {
        channel = server.accept();
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        if (!server.isOpen()) {
          return;
        }
        if (failures++ == 0) {
          Events.report(() -> listener.acceptFailed(e));
        }
        LockSupport.parkNanos(this, backoff);
        backoff = Math.min(2 * backoff, MAX_BACKOFF_NANOS);
        continue;
      }
      if (failures > 0) {
        long failed = failures;
        Events.LOGGER.log(Level.INFO, () -> "accepting again after " + failed + " failed accepts");
        failures = 0;
        backoff = FIRST_BACKOFF_NANOS;
      }
      counters.add(Counters.ACCEPTED, 1);
      dispatch(channel);
    }
  }

  private void dispatch(SocketChannel channel) {
    Peer peer;
    try {
      peer = new Peer(IDS.incrementAndGet(), channel.getRemoteAddress(), channel.getLocalAddress());
    } catch (IOException e) {
      Events.LOGGER.log(Level.DEBUG, () -> "accepted socket failed at once: " + e);
      counters.closed(CloseReason.PEER_RESET);
      close(channel);
      return;
    }
    RefusalReason refusal = admission.admit(peer.remoteAddress());
    if (refusal != null) {
      refuse(channel, peer.remoteAddress(), refusal);
      return;
    }
    for (int tries = 0; tries < loops.length; tries++) {
      IoLoop loop = loops[nextLoop];
      nextLoop = (nextLoop + 1) % loops.length;
      if (loop.isRunning()) {
        loop.register(channel, peer);
        return;
      }
    }
    Events.LOGGER.log(Level.ERROR, () -> "no I/O thread is running; closing " + peer);
    admission.release(peer.remoteAddress());
    counters.closed(CloseReason.SERVER_ERROR);
    close(channel);
  }

  /** Resets the connection, so the client's next read or write fails at once. */
  private void refuse(SocketChannel channel, SocketAddress remote, RefusalReason reason) {
    counters.add(Counters.REFUSED, 1);
    try {
      channel.setOption(StandardSocketOptions.SO_LINGER, 0);
    } catch (IOException e) {
      Events.LOGGER.log(Level.DEBUG, () -> "SO_LINGER on a refused socket failed: " + e);
    }
    close(channel);
    Events.report(() -> listener.connectionRefused(remote, reason));
  }

  private static void close(SocketChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      Events.LOGGER.log(Level.DEBUG, () -> "closing an accepted socket failed: " + e);
    }
  }
}
