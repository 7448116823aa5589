package dev.lineserver.benchmarks.load;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The loopback bound: NIO selector loops that read into one 64 KiB direct buffer each and discard
 * it, counting bytes; lines = bytes ÷ the fixed line length (no byte is looked at). A blocking
 * acceptor thread deals connections round-robin; each loop alone touches its selector and buffer.
 */
final class RawNioServer implements BenchServer {
  private final ServerSocketChannel listener;
  private final Loop[] loops;

  RawNioServer(int ioThreads, Meter meter) throws IOException {
    int threads = ioThreads > 0 ? ioThreads : Runtime.getRuntime().availableProcessors();
    this.listener = ServerSocketChannel.open();
    listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
    this.loops = new Loop[threads];
    for (int i = 0; i < threads; i++) {
      loops[i] = new Loop(meter);
      Thread thread = new Thread(loops[i], "bench-raw-io-" + (i + 1));
      thread.setDaemon(true);
      thread.start();
    }
    Thread acceptor = new Thread(this::accept, "bench-raw-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  private void accept() {
    int next = 0;
    while (true) {
      try {
        SocketChannel channel = listener.accept();
        loops[next].incoming.add(channel);
        loops[next].selector.wakeup();
        next = (next + 1) % loops.length;
      } catch (IOException e) {
        return;
      }
    }
  }

  @Override
  public int port() {
    return listener.socket().getLocalPort();
  }

  @Override
  public void close() throws IOException {
    listener.close();
  }

  private static final class Loop implements Runnable {
    private final Meter meter;
    private final Selector selector;
    private final Queue<SocketChannel> incoming = new ConcurrentLinkedQueue<>();
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(64 * 1024);

    Loop(Meter meter) throws IOException {
      this.meter = meter;
      this.selector = Selector.open();
    }

    @Override
    public void run() {
      try {
        while (true) {
          selector.select(this::read);
          SocketChannel channel;
          while ((channel = incoming.poll()) != null) {
            channel.configureBlocking(false);
            channel.register(selector, SelectionKey.OP_READ);
            meter.opened();
          }
        }
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }

    private void read(SelectionKey key) {
      SocketChannel channel = (SocketChannel) key.channel();
      try {
        for (int reads = 0; reads < 16; reads++) {
          buffer.clear();
          int n = channel.read(buffer);
          if (n < 0) {
            close(key);
            return;
          }
          meter.rawBytes(n);
          if (n < buffer.capacity()) {
            return;
          }
        }
      } catch (IOException e) {
        close(key);
      }
    }

    private void close(SelectionKey key) {
      key.cancel();
      meter.closed();
      try {
        key.channel().close();
      } catch (IOException e) {
        // Already gone.
      }
    }
  }
}
