package dev.lineserver.internal;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/**
 * A {@link Transport} on a non-blocking {@link SocketChannel} registered with its {@link IoLoop}'s
 * selector: it holds the key alone (an idle connection's heap is mostly such objects), whose
 * attachment is the connection. Interest changes reach the key only when they change, and never
 * once it is cancelled.
 */
final class NioTransport implements Transport {
  private final SelectionKey key;

  private NioTransport(SelectionKey key) {
    this.key = key;
  }

  /** Makes {@code channel} non-blocking and registers it for reading with {@code selector}. */
  static NioTransport register(SocketChannel channel, Selector selector) throws IOException {
    channel.configureBlocking(false);
    return new NioTransport(channel.register(selector, SelectionKey.OP_READ));
  }

  private SocketChannel channel() {
    return (SocketChannel) key.channel();
  }

  /** The connection the selector's events are for. */
  void attach(Object connection) {
    key.attach(connection);
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    return channel().read(dst);
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    return channel().write(src);
  }

  @Override
  public void shutdownOutput() throws IOException {
    channel().shutdownOutput();
  }

  @Override
  public void readInterest(boolean on) {
    interest(SelectionKey.OP_READ, on);
  }

  @Override
  public void writeInterest(boolean on) {
    interest(SelectionKey.OP_WRITE, on);
  }

  private void interest(int op, boolean on) {
    try {
      int ops = key.interestOps();
      int wanted = on ? ops | op : ops & ~op;
      if (wanted != ops) {
        key.interestOps(wanted);
      }
    } catch (CancelledKeyException e) {
      // closed, maybe by close() from another thread after the drain gave up on this loop
    }
  }

  @Override
  public void close() {
    key.cancel();
    try {
      key.channel().close();
    } catch (IOException e) {
      Reports.current().log.log(Level.DEBUG, () -> "closing " + key.channel() + " failed: " + e);
    }
  }
}
