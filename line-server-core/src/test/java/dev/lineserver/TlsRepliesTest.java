package dev.lineserver;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lineserver.testing.ChildJvm;
import dev.lineserver.testing.TestPki;
import dev.lineserver.testing.TlsRepliesProgram;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Promise (README, Replies and commands): over TLS the replies are wrapped by the same engine as
 * the handshake, after any handshake message it must send first, so they never interleave wrongly:
 * a sink's echoes and another thread's commands both arrive whole and in order while both sides
 * update their keys every few lines ({@link TlsRepliesProgram}, in a child JVM for its key limits).
 */
final class TlsRepliesTest {

  @ParameterizedTest
  @ValueSource(strings = {"io-thread", "executor"})
  void repliesAndCommands_throughKeyUpdates_wholeAndInOrder(String mode) throws Exception {
    TestPki pki = TestPki.shared();
    try (ChildJvm child = ChildJvm.start(0, TlsRepliesProgram.class, pki.dir().toString(), mode)) {
      String result = child.await(120, "replies OK", "FAILED");
      assertThat(result).as("child output: %s", child.history()).isEqualTo("replies OK");
      assertThat(child.waitForExit(30)).isZero();
    }
  }
}
