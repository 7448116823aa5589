package dev.lineserver.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A test program: opens {@code connections} connections to {@code port}, then sends {@code lines}
 * numbered lines ({@code connection,line}) on each, round by round, printing {@code CONNECTED} and
 * {@code SENT}; keeps them open until standard input ends.
 */
public final class ManyClients {
  private ManyClients() {}

  public static void main(String[] args) throws IOException {
    int port = Integer.parseInt(args[0]);
    int connections = Integer.parseInt(args[1]);
    int lines = Integer.parseInt(args[2]);
    InetSocketAddress server = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    List<SocketChannel> channels = new ArrayList<>(connections);
    for (int c = 0; c < connections; c++) {
      channels.add(SocketChannel.open(server));
    }
    System.out.println("CONNECTED " + connections);
    for (int i = 0; i < lines; i++) {
      for (int c = 0; c < connections; c++) {
        ByteBuffer line = ByteBuffer.wrap((c + "," + i + "\n").getBytes(StandardCharsets.UTF_8));
        while (line.hasRemaining()) {
          channels.get(c).write(line);
        }
      }
    }
    System.out.println("SENT " + (long) connections * lines);
    while (System.in.read() >= 0) {
      // Keeps the connections open until the parent closes standard input.
    }
    for (SocketChannel channel : channels) {
      channel.close();
    }
  }
}
