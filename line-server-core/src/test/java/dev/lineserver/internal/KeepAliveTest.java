package dev.lineserver.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import jdk.net.ExtendedSocketOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The options as the kernel reports them back on an accepted loopback socket. */
final class KeepAliveTest {

  @Test
  void apply_on_setsEachTimingOnTheAcceptedSocket() throws Exception {
    try (ServerSocketChannel listener = ServerSocketChannel.open();
        SocketChannel client = SocketChannel.open()) {
      listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      client.connect(listener.getLocalAddress());
      try (SocketChannel accepted = listener.accept()) {
        new KeepAlive(true, 77, 9, 5).apply(accepted, accepted.getRemoteAddress());

        assertThat(accepted.getOption(StandardSocketOptions.SO_KEEPALIVE)).isTrue();
        assertThat(accepted.getOption(ExtendedSocketOptions.TCP_KEEPIDLE)).isEqualTo(77);
        assertThat(accepted.getOption(ExtendedSocketOptions.TCP_KEEPINTERVAL)).isEqualTo(9);
        assertThat(accepted.getOption(ExtendedSocketOptions.TCP_KEEPCOUNT)).isEqualTo(5);
      }
    }
  }

  @Test
  void apply_off_clearsSoKeepAlive() throws Exception {
    try (ServerSocketChannel listener = ServerSocketChannel.open();
        SocketChannel client = SocketChannel.open()) {
      listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      client.connect(listener.getLocalAddress());
      try (SocketChannel accepted = listener.accept()) {
        accepted.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
        new KeepAlive(false, 77, 9, 5).apply(accepted, accepted.getRemoteAddress());

        assertThat(accepted.getOption(StandardSocketOptions.SO_KEEPALIVE)).isFalse();
      }
    }
  }

  @Test
  void apply_unixSocket_leavesItAlone(@TempDir Path dir) throws Exception {
    UnixDomainSocketAddress address = UnixDomainSocketAddress.of(dir.resolve("s.sock"));
    try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        SocketChannel client = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      listener.bind(address);
      client.connect(address);
      try (SocketChannel accepted = listener.accept()) {
        new KeepAlive(true, 77, 9, 5).apply(accepted, accepted.getRemoteAddress());

        assertThat(accepted.supportedOptions()).doesNotContain(StandardSocketOptions.SO_KEEPALIVE);
        assertThat(accepted.isOpen()).isTrue();
      }
    }
  }
}
