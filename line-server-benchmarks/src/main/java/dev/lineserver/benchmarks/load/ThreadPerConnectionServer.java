package dev.lineserver.benchmarks.load;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.reflect.InvocationTargetException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Blocking {@code BufferedReader.readLine}, one thread per connection: a platform thread, or a
 * virtual thread (JDK 21+, reached by reflection since this code targets release 17). An acceptor
 * platform thread hands each socket to its own thread. There is no I/O thread count to set.
 */
final class ThreadPerConnectionServer implements BenchServer {
  private final ServerSocket listener;
  private final Executor executor;
  private final Meter meter;

  ThreadPerConnectionServer(boolean virtual, Meter meter) throws IOException {
    this.meter = meter;
    this.executor = virtual ? virtualThreadPerTask() : ThreadPerConnectionServer::platformThread;
    this.listener = new ServerSocket(0, 1024, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "bench-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  private static void platformThread(Runnable task) {
    Thread thread = new Thread(task, "bench-conn");
    thread.setDaemon(true);
    thread.start();
  }

  private static ExecutorService virtualThreadPerTask() {
    int feature = Runtime.version().feature();
    if (feature < 21) {
      throw new UnsupportedOperationException(
          "virtual threads need JDK 21+; this server JVM is JDK " + Runtime.version());
    }
    try {
      return (ExecutorService)
          Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
    } catch (NoSuchMethodException | IllegalAccessException | InvocationTargetException e) {
      throw new IllegalStateException("Executors.newVirtualThreadPerTaskExecutor failed", e);
    }
  }

  private void accept() {
    while (true) {
      Socket socket;
      try {
        socket = listener.accept();
      } catch (IOException e) {
        return;
      }
      executor.execute(() -> serve(socket));
    }
  }

  private void serve(Socket socket) {
    meter.opened();
    try (socket;
        BufferedReader reader =
            new BufferedReader(
                new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) {
        meter.string(line);
      }
    } catch (IOException e) {
      // The peer went away: the connection ends.
    } finally {
      meter.closed();
    }
  }

  @Override
  public int port() {
    return listener.getLocalPort();
  }

  @Override
  public void close() throws IOException {
    listener.close();
  }
}
