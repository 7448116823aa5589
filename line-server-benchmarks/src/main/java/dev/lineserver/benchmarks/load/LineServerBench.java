package dev.lineserver.benchmarks.load;

import dev.lineserver.CloseReason;
import dev.lineserver.ConnectionInfo;
import dev.lineserver.Line;
import dev.lineserver.LineServer;
import dev.lineserver.LineServerListener;
import dev.lineserver.SendResult;
import java.io.IOException;
import java.net.InetAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

/**
 * line-server with a String sink or with the zero-copy byte sink. With {@code ack}, the sink
 * answers every line with {@link Lines#ACK}: the String sink with {@code sendLine("ACK")}, the byte
 * sink with {@code send} of one preallocated array; an ACK not queued counts as refused.
 */
final class LineServerBench implements BenchServer {
  private final LineServer server;
  private final @Nullable ExecutorService executor;

  LineServerBench(boolean bytes, int ioThreads, Meter meter, @Nullable SSLContext tls, boolean ack)
      throws IOException {
    this(bytes, ioThreads, meter, tls, null, ack);
  }

  /** A String sink on a 2-thread pool: lines are queued per connection, within the budget. */
  static LineServerBench onExecutor(int ioThreads, Meter meter, boolean ack) throws IOException {
    return new LineServerBench(false, ioThreads, meter, null, Executors.newFixedThreadPool(2), ack);
  }

  private LineServerBench(
      boolean bytes,
      int ioThreads,
      Meter meter,
      @Nullable SSLContext tls,
      @Nullable ExecutorService executor,
      boolean ack)
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
                    if (reason == CloseReason.SLOW_READER) {
                      System.err.println("line-server: closed as a slow reader: " + connection);
                    }
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
    if (ack && bytes) {
      byte[] reply = Lines.ACK;
      builder.byteSink(
          (connection, line) -> {
            meter.bytes(line.length());
            if (connection.send(reply) != SendResult.QUEUED) {
              meter.ackRefused();
            }
          });
    } else if (ack) {
      builder.connectionSink(
          (connection, line) -> {
            meter.string(line);
            if (connection.sendLine(Lines.ACK_TEXT) != SendResult.QUEUED) {
              meter.ackRefused();
            }
          });
    } else if (!bytes) {
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
