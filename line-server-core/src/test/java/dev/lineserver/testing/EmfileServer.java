package dev.lineserver.testing;

import dev.lineserver.CloseReason;
import dev.lineserver.ConnectionInfo;
import dev.lineserver.LineServer;
import dev.lineserver.LineServerListener;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * A test program: a server that reports on standard output, for a parent test to run under a low
 * {@code ulimit -n}. Prints {@code PORT n}, {@code OPEN n} per connection, {@code ACCEPT_FAILED
 * message}, {@code LINE text}; ends on EOF of standard input.
 */
public final class EmfileServer {
  private EmfileServer() {}

  public static void main(String[] args) throws IOException {
    LineServerListener listener =
        new LineServerListener() {
          @Override
          public void connectionOpened(ConnectionInfo connection) {
            System.out.println("OPEN " + connection.id());
          }

          @Override
          public void connectionClosed(ConnectionInfo connection, CloseReason reason) {}

          @Override
          public void acceptFailed(IOException error) {
            System.out.println("ACCEPT_FAILED " + error.getMessage());
            // The default logs through the logging backend while no descriptor is free.
            LineServerListener.super.acceptFailed(error);
          }
        };
    try (LineServer server =
        LineServer.builder()
            .port(0)
            .ioThreads(1)
            .sink(line -> System.out.println("LINE " + line))
            .listener(listener)
            .start()) {
      System.out.println("PORT " + server.port());
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      while (in.readLine() != null) {
        // Runs until the parent closes standard input.
      }
    }
  }
}
