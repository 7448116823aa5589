package dev.lineserver.internal;

import dev.lineserver.LineServerListener;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The acceptor thread: accepts on the blocking listening channel and deals connections round-robin
 * to the running I/O loops. Ends when the listening channel is closed. Only its own thread touches
 * {@code nextLoop}.
 */
public final class Acceptor implements Runnable {
  /** How long to wait after a failed accept before trying again. */
  private static final long RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private static final AtomicLong IDS = new AtomicLong();

  private final ServerSocketChannel server;
  private final IoLoop[] loops;
  private final LineServerListener listener;
  private int nextLoop;

  public Acceptor(ServerSocketChannel server, IoLoop[] loops, LineServerListener listener) {
    this.server = server;
    this.loops = loops.clone();
    this.listener = listener;
  }

  @Override
  public void run() {
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
        Events.report(() -> listener.acceptFailed(e));
        LockSupport.parkNanos(this, RETRY_NANOS);
        continue;
      }
      dispatch(channel);
    }
  }

  private void dispatch(SocketChannel channel) {
    Peer peer;
    try {
      peer = new Peer(IDS.incrementAndGet(), channel.getRemoteAddress(), channel.getLocalAddress());
    } catch (IOException e) {
      Events.LOGGER.log(Level.DEBUG, () -> "accepted socket failed at once: " + e);
      closeQuietly(channel);
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
    Events.LOGGER.log(Level.ERROR, () -> "no I/O thread is running; refusing " + peer);
    closeQuietly(channel);
  }

  private static void closeQuietly(SocketChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      Events.LOGGER.log(Level.DEBUG, () -> "closing an accepted socket failed: " + e);
    }
  }
}
