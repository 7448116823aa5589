package dev.lineserver;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Collectors;

/** Looks at the JVM's live threads. */
final class Threads {
  private Threads() {}

  static List<String> serverThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(name -> name.startsWith("line-server-"))
        .sorted()
        .collect(Collectors.toList());
  }

  static void assertNoServerThreads() {
    assertThat(serverThreads()).as("live line-server threads").isEmpty();
  }
}
