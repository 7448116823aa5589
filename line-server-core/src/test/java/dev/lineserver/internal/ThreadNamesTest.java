package dev.lineserver.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

final class ThreadNamesTest {
  @Test
  void tlsThreads_ofANamedServer_carryTheName() throws InterruptedException {
    TlsTasks pool = new TlsTasks(1, Engine.threadPrefix("ingest"));
    BlockingQueue<String> names = new ArrayBlockingQueue<>(1);
    try {
      pool.run(() -> names.add(Thread.currentThread().getName()), Runnable::run, failure -> {});
      assertThat(names.poll(10, TimeUnit.SECONDS)).isEqualTo("line-server-ingest-tls-1");
    } finally {
      pool.shutdown(System.nanoTime() + TimeUnit.SECONDS.toNanos(10));
    }
  }

  @Test
  void threadPrefix_withoutAName_asBefore() {
    assertThat(Engine.threadPrefix(null)).isEqualTo("line-server-");
    assertThat(Engine.threadPrefix("a.b_c-1")).isEqualTo("line-server-a.b_c-1-");
  }
}
