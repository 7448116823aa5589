package dev.lineserver;

import static java.util.Objects.requireNonNull;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.lineserver.testing.Client;
import dev.lineserver.testing.Lines;
import dev.lineserver.testing.LogCapture;
import dev.lineserver.testing.Threads;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class ServerNameTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(Lines.TIMEOUT_SECONDS);

  @AfterEach
  void noThreadLeft() {
    Threads.assertNoServerThreads();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "two words",
        "slash/name",
        "ünïcode",
        "brace{0}",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      })
  void name_notAccepted_throwsWithTheValueAndWhatIsAccepted(String name) {
    assertThatThrownBy(() -> LineServer.builder().name(name))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("name: \"" + name + "\" (expected: 1..64 characters of A-Z a-z 0-9 . _ -)");
  }

  @Test
  void name_longestAndEveryCharacter_accepted() {
    LineServer.builder().name("A-z_0.9").name("a".repeat(64));
  }

  @Test
  void twoNamedServers_threadsAndLogLinesNameTheirServer_closedOneLeavesNoThread()
      throws Exception {
    try (LogCapture log = new LogCapture()) {
      LineServer a =
          LineServer.builder()
              .name("a")
              .port(0)
              .ioThreads(2)
              .deny("127.0.0.0/8", "::1") // every loopback connection is refused
              .sink(line -> {})
              .start();
      try (LineServer b =
          LineServer.builder()
              .name("b")
              .port(0)
              .ioThreads(2)
              .sink(
                  line -> {
                    throw new IllegalStateException("sink of b fails");
                  })
              .start()) {
        try {
          assertThat(a.name()).isEqualTo("a");
          assertThat(a.toString()).startsWith("LineServer[a, ");
          assertThat(Threads.serverThreads())
              .contains(
                  "line-server-a-accept",
                  "line-server-a-io-1",
                  "line-server-a-io-2",
                  "line-server-b-accept",
                  "line-server-b-io-1",
                  "line-server-b-io-2");
          try (Client refused = new Client(a)) {
            assertThat(refused.awaitServerClose()).isTrue();
          }
          try (Client failing = new Client(b)) {
            failing.send("one\n");
            await()
                .atMost(TIMEOUT)
                .until(() -> warnings(log).stream().anyMatch(m -> m.startsWith("[b] ")));
          }
          await()
              .atMost(TIMEOUT)
              .until(() -> warnings(log).stream().anyMatch(m -> m.startsWith("[a] ")));
          assertThat(warnings(log))
              .anySatisfy(m -> assertThat(m).startsWith("[a] refused a connection from "))
              .anySatisfy(m -> assertThat(m).startsWith("[b] sink failed on connection #"))
              .allSatisfy(m -> assertThat(m).matches("\\[[ab]\\] .*"));
        } finally {
          a.close();
        }
        assertThat(Threads.serverThreads())
            .noneMatch(name -> name.startsWith("line-server-a-"))
            .contains("line-server-b-accept", "line-server-b-io-1", "line-server-b-io-2");
      }
    }
  }

  @Test
  void closeFromTheSink_runsOnACloseThreadWithTheName() throws Exception {
    BlockingQueue<List<String>> seen = new ArrayBlockingQueue<>(1);
    AtomicReference<LineServer> self = new AtomicReference<>();
    try (LineServer server =
            LineServer.builder()
                .name("closer")
                .port(0)
                .ioThreads(1)
                .sink(
                    line -> {
                      requireNonNull(self.get()).close(); // starts the shutdown and returns
                      // The close thread waits for this call: it is alive now.
                      seen.add(Threads.serverThreads());
                    })
                .start();
        Client client = new Client(server)) {
      self.set(server);
      client.send("close\n");
      assertThat(seen.poll(Lines.TIMEOUT_SECONDS, TimeUnit.SECONDS))
          .contains("line-server-closer-close");
    }
  }

  @Test
  void noName_threadsAndLogLinesAsBefore() throws Exception {
    try (LogCapture log = new LogCapture();
        LineServer server =
            LineServer.builder()
                .port(0)
                .ioThreads(1)
                .deny("127.0.0.0/8", "::1")
                .sink(line -> {})
                .start()) {
      assertThat(server.name()).isNull();
      assertThat(Threads.serverThreads()).contains("line-server-accept", "line-server-io-1");
      try (Client refused = new Client(server)) {
        assertThat(refused.awaitServerClose()).isTrue();
      }
      await().atMost(TIMEOUT).until(() -> !warnings(log).isEmpty());
      assertThat(warnings(log).get(0)).startsWith("refused a connection from ");
    }
  }

  private static List<String> warnings(LogCapture log) {
    return log.atLeast(Level.WARNING).stream().map(LogRecord::getMessage).toList();
  }
}
