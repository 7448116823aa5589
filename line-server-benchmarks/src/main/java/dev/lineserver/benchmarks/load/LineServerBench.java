package dev.lineserver.benchmarks.load;

import dev.lineserver.CloseReason;
import dev.lineserver.ConnectionInfo;
import dev.lineserver.Line;
import dev.lineserver.LineServer;
import dev.lineserver.LineServerListener;
import java.io.IOException;
import java.net.InetAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

/** line-server with a String sink or with the zero-copy byte sink. */
final class LineServerBench implements BenchServer {
  private final LineServer server;
  private final @Nullable ExecutorService executor;

  LineServerBench(boolean bytes, int ioThreads, Meter meter, @Nullable SSLContext tls)
      throws IOException {
    this(bytes, ioThreads, meter, tls, null);
  }

  /** A String sink on a 2-thread pool: lines are queued per connection, within the budget. */
  static LineServerBench onExecutor(int ioThreads, Meter meter) throws IOException {
    return new LineServerBench(false, ioThreads, meter, null, Executors.newFixedThreadPool(2));
  }

  private LineServerBench(
      boolean bytes,
      int ioThreads,
      Meter meter,
      @Nullable SSLContext tls,
      @Nullable ExecutorService executor)
      throws IOException {
    this.executor = executor;
    LineServer.Builder builder =
        LineServer.builder()
            .port(0)
            .bindAddress(InetAddress.getLoopbackAddress())
            .listener(
                new LineServerListener() {
                  @Override
                  public void connectionOpened(ConnectionInfo connection) {
                    meter.opened();
                  }

                  @Override
                  public void connectionClosed(ConnectionInfo connection, CloseReason reason) {
                    meter.closed();
                  }
                });
    if (ioThreads > 0) {
      builder.ioThreads(ioThreads);
    }
    if (tls != null) {
      builder.tls(tls);
    }
    if (executor != null) {
      builder.sinkExecutor(executor);
    }
    if (!bytes) {
      builder.sink(meter::string);
    } else if (meter.latency()) {
      builder.byteSink(
          (connection, line) -> {
            meter.record(stamp(line));
            meter.bytes(line.length());
          });
    } else {
      builder.byteSink((connection, line) -> meter.bytes(line.length()));
    }
    this.server = builder.start();
  }

  /** Parses the digits of the second field in place. */
  private static long stamp(Line line) {
    int i = line.indexOf((byte) ',', 0) + 1;
    long value = 0;
    for (int n = line.length(); i < n; i++) {
      byte b = line.byteAt(i);
      if (b < '0' || b > '9') {
        break;
      }
      value = value * 10 + (b - '0');
    }
    return value;
  }

  @Override
  public int port() {
    return server.port();
  }

  @Override
  public void close() {
    server.close();
    if (executor != null) {
      executor.shutdown();
    }
  }
}
