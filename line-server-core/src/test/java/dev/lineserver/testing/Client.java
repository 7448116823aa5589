package dev.lineserver.testing;

import dev.lineserver.LineServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A blocking loopback client. */
public final class Client implements AutoCloseable {
  public final Socket socket;
  private final OutputStream out;

  public Client(LineServer server) throws IOException {
    this(new Socket(InetAddress.getLoopbackAddress(), server.port()));
    socket.setTcpNoDelay(true);
    socket.setSoTimeout((int) (Lines.TIMEOUT_SECONDS * 1000));
  }

  /** Takes over a connected socket, plain or TLS. */
  public Client(Socket socket) throws IOException {
    this.socket = socket;
    this.out = socket.getOutputStream();
  }

  public Client send(String text) throws IOException {
    return send(text.getBytes(StandardCharsets.UTF_8));
  }

  public Client send(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
    return this;
  }

  /** Half-closes: the server sees EOF. */
  public void shutdownOutput() throws IOException {
    socket.shutdownOutput();
  }

  /** Blocks until the server closes the connection; true if it did (EOF or reset). */
  public boolean awaitServerClose() throws IOException {
    InputStream in = socket.getInputStream();
    try {
      return in.read() < 0;
    } catch (java.net.SocketException e) {
      return true;
    }
  }

  /** Closes with RST instead of FIN. */
  public void reset() throws IOException {
    socket.setSoLinger(true, 0);
    socket.close();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
