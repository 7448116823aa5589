package dev.lineserver;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lineserver.testing.ChildJvm;
import dev.lineserver.testing.Peers;
import dev.lineserver.testing.TestPki;
import dev.lineserver.testing.TlsRepliesProgram;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Promise (README, Replies and commands): over TLS the replies are wrapped by the same engine as
 * the handshake, after any handshake message it must send first, so they never interleave wrongly:
 * a sink's echoes and another thread's commands both arrive at {@code openssl s_client} whole and
 * in order while both sides update their keys every few lines, and the application's {@code
 * close()} writes them all before its close_notify ({@link TlsRepliesProgram}, in a child JVM for
 * its key limits). A TLS client on {@code SSLSocket} cannot take this: with a reader and a writer
 * thread, two JDK sockets fail each other's records (bad_record_mac) under such key updates.
 */
final class TlsRepliesTest {

  @ParameterizedTest
  @ValueSource(strings = {"io-thread", "executor"})
  void repliesAndCommands_throughKeyUpdates_wholeAndInOrder(String mode) throws Exception {
    TestPki pki = TestPki.shared();
    try (ChildJvm child =
        ChildJvm.start(
            0,
            TlsRepliesProgram.class,
            pki.dir().toString(),
            Peers.require("openssl", "openssl"),
            mode)) {
      String result = child.await(120, "replies OK", "FAILED");
      assertThat(result).as("child output: %s", child.history()).isEqualTo("replies OK");
      assertThat(child.waitForExit(30)).isZero();
    }
  }
}
