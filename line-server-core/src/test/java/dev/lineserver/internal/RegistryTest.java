package dev.lineserver.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The open connections by id: the table against a map, through growth, removal and shrinking. */
final class RegistryTest {
  private static final InetSocketAddress ADDRESS = new InetSocketAddress("127.0.0.1", 9000);

  private static Peer peer(long id) {
    return new Peer(id, ADDRESS, ADDRESS, new Reports());
  }

  @Test
  void randomOpensAndCloses_lookupsAgreeWithAMap() {
    long seed = System.nanoTime();
    SplittableRandom random = new SplittableRandom(seed);
    Registry registry = new Registry();
    Map<Long, Peer> expected = new HashMap<>();
    List<Peer> open = new ArrayList<>();
    long nextId = 1;
    for (int step = 0; step < 200_000; step++) {
      // Waves: grow to thousands, then shrink, so the table resizes both ways.
      boolean grow = (step / 20_000) % 2 == 0 ? random.nextInt(4) != 0 : random.nextInt(4) == 0;
      if (grow || open.isEmpty()) {
        Peer peer = peer(nextId++);
        registry.add(peer);
        expected.put(peer.id(), peer);
        open.add(peer);
      } else {
        Peer peer = open.remove(random.nextInt(open.size()));
        registry.remove(peer);
        expected.remove(peer.id());
      }
      long probe = 1 + random.nextLong(nextId);
      assertThat(registry.get(probe))
          .as("seed %d, id %d", seed, probe)
          .isSameAs(expected.get(probe));
    }
    assertThat(registry.size()).as("seed %d", seed).isEqualTo(expected.size());
    assertThat(registry.all()).as("seed %d", seed).containsExactlyInAnyOrderElementsOf(open);
    for (Peer peer : open) {
      assertThat(registry.get(peer.id())).as("seed %d", seed).isSameAs(peer);
    }
  }

  @Test
  void remove_neverAdded_changesNothing() {
    Registry registry = new Registry();
    Peer kept = peer(1);
    registry.add(kept);
    registry.remove(peer(2));
    registry.remove(kept);
    registry.remove(kept);
    assertThat(registry.size()).isZero();
    assertThat(registry.get(1)).isNull();
  }
}
