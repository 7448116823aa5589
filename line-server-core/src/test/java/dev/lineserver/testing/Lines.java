package dev.lineserver.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lineserver.LineSink;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/** A sink that queues every line, for tests to take with a timeout. */
public final class Lines implements LineSink {
  public static final long TIMEOUT_SECONDS = 10;

  private final BlockingQueue<String> queue = new LinkedBlockingQueue<>();

  @Override
  public void accept(String line) {
    queue.add(line);
  }

  /** The next line, failing the test if none arrives in time. */
  public String take() throws InterruptedException {
    @Nullable String line = queue.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    assertThat(line).as("a line within %d s", TIMEOUT_SECONDS).isNotNull();
    return line;
  }

  public List<String> take(int count) throws InterruptedException {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      lines.add(take());
    }
    return lines;
  }

  /**
   * Waits {@code millis}, failing if a line arrives meanwhile: paces a test that must send slowly,
   * and checks that nothing unexpected is delivered while it waits.
   */
  public void awaitNothing(long millis) throws InterruptedException {
    assertThat(queue.poll(millis, TimeUnit.MILLISECONDS)).as("no line while waiting").isNull();
  }

  /** Lines delivered so far and not yet taken. */
  public List<String> remaining() {
    List<String> lines = new ArrayList<>();
    queue.drainTo(lines);
    return lines;
  }
}
