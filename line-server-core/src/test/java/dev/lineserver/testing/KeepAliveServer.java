package dev.lineserver.testing;

import dev.lineserver.CloseReason;
import dev.lineserver.ConnectionInfo;
import dev.lineserver.LineServer;
import dev.lineserver.LineServerListener;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A test program: a server on {@code args[0]} with TCP keepalive of {@code args[1]} s idle, {@code
 * args[2]} s interval and {@code args[3]} probes ({@code off} for none), reporting on standard
 * output: {@code PORT n}, {@code OPEN id}, {@code LINE text}, {@code CLOSED id reason}. Run in a
 * network namespace by a parent test; ends on EOF of standard input.
 */
public final class KeepAliveServer {
  private KeepAliveServer() {}

  public static void main(String[] args) throws IOException {
    LineServerListener listener =
        new LineServerListener() {
          @Override
          public void connectionOpened(ConnectionInfo connection) {
            System.out.println("OPEN " + connection.id());
          }

          @Override
          public void connectionClosed(ConnectionInfo connection, CloseReason reason) {
            System.out.println("CLOSED " + connection.id() + " " + reason);
          }
        };
    LineServer.Builder builder =
        LineServer.builder()
            .bindAddress(InetAddress.getByName(args[0]))
            .port(0)
            .ioThreads(1)
            .sink(line -> System.out.println("LINE " + line))
            .listener(listener);
    if (args[1].equals("off")) {
      builder.tcpKeepAlive(false);
    } else {
      builder.tcpKeepAlive(
          Duration.ofSeconds(Integer.parseInt(args[1])),
          Duration.ofSeconds(Integer.parseInt(args[2])),
          Integer.parseInt(args[3]));
    }
    try (LineServer server = builder.start()) {
      System.out.println("PORT " + server.port());
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      while (in.readLine() != null) {
        // Runs until the parent closes standard input.
      }
    }
  }
}
