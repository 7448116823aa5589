package dev.lineserver.testing;

import dev.lineserver.LineServer;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What a socket test needs around its server: a builder on port 0 that reports to a recording
 * {@link ListenerEvents}, sinks that queue lines ({@link Lines}, {@link ConnectionLines}), and the
 * cleanup after each test: a server it started and the test left open is closed, then no server
 * thread may be alive. One per test, as an instance field:
 *
 * <pre>{@code
 * @RegisterExtension final ServerFixture fixture = new ServerFixture();
 *
 * try (LineServer server = fixture.start(fixture.builder().sink(fixture.lines()));
 *     Client client = new Client(server)) {
 *   client.send("one\n").shutdownOutput();
 *   assertThat(fixture.lines().take()).isEqualTo("one");
 *   fixture.events().closed.await(c -> c.reason() == CloseReason.PEER_EOF);
 * }
 * }</pre>
 */
public final class ServerFixture implements AfterEachCallback {
  /** How long a test waits for what the server does: a line, an event, a close. */
  public static final long TIMEOUT_MILLIS = Lines.TIMEOUT_SECONDS * 1000;

  private final Lines lines = new Lines();
  private final ConnectionLines delivered = new ConnectionLines();
  private final ListenerEvents events = new ListenerEvents();
  private final List<LineServer> started = new CopyOnWriteArrayList<>();

  /** A sink that queues each line as a String. */
  public Lines lines() {
    return lines;
  }

  /** A sink that queues each line with its connection. */
  public ConnectionLines delivered() {
    return delivered;
  }

  /** What the servers built by {@link #builder} told their listener. */
  public ListenerEvents events() {
    return events;
  }

  /** A builder on port 0 whose listener is {@link #events}; the test adds a sink. */
  public LineServer.Builder builder() {
    return LineServer.builder().port(0).listener(events);
  }

  /**
   * Starts {@code builder}'s server, which is closed after the test should the test not close it.
   */
  public LineServer start(LineServer.Builder builder) throws IOException {
    LineServer server = builder.start();
    started.add(server);
    return server;
  }

  @Override
  public void afterEach(ExtensionContext context) {
    for (LineServer server : started) {
      server.close(); // idempotent: a no-op for the servers the test closed
    }
    started.clear();
    Threads.assertNoServerThreads();
  }
}
