package dev.lineserver.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lineserver.ConnectionInfo;
import dev.lineserver.ConnectionLineSink;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/** A sink that queues every line with its connection, for tests to take with a timeout. */
public final class ConnectionLines implements ConnectionLineSink {
  public record Delivered(ConnectionInfo connection, String line) {}

  private final BlockingQueue<Delivered> queue = new LinkedBlockingQueue<>();

  @Override
  public void accept(ConnectionInfo connection, String line) {
    queue.add(new Delivered(connection, line));
  }

  /** The next line, failing the test if none arrives in time. */
  public Delivered take() throws InterruptedException {
    @Nullable Delivered next = queue.poll(Lines.TIMEOUT_SECONDS, TimeUnit.SECONDS);
    assertThat(next).as("a line within %d s", Lines.TIMEOUT_SECONDS).isNotNull();
    return next;
  }

  public List<Delivered> take(int count) throws InterruptedException {
    List<Delivered> taken = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      taken.add(take());
    }
    return taken;
  }

  public boolean isEmpty() {
    return queue.isEmpty();
  }
}
