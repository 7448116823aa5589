package dev.lineserver.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Collectors;

/** Looks at the JVM's live threads. */
public final class Threads {
  private Threads() {}

  public static List<String> serverThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(name -> name.startsWith("line-server-"))
        .sorted()
        .collect(Collectors.toList());
  }

  public static void assertNoServerThreads() {
    assertThat(serverThreads()).as("live line-server threads").isEmpty();
  }
}
