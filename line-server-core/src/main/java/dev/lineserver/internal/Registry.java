package dev.lineserver.internal;

import dev.lineserver.ConnectionInfo;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One server's open connections by id, for {@code LineServer.connection(id)}: an open-addressing
 * table of {@link Peer}s (their ids are the keys), linear probing, at most three quarters full, so
 * an entry costs 5 to 11 bytes and no object (a hash map's would be over 40). The I/O threads add a
 * connection as it opens and remove it as it closes; any thread looks up. Every access holds the
 * table's lock, held for a few probes.
 */
final class Registry {
  private static final int MIN_CAPACITY = 16;

  private @Nullable Peer[] table = new Peer[MIN_CAPACITY]; // guarded by this
  private int size; // guarded by this

  synchronized void add(Peer peer) {
    if (4 * (size + 1) > 3 * table.length) {
      resize(table.length * 2);
    }
    insert(table, peer);
    size++;
  }

  synchronized void remove(Peer peer) {
    @Nullable Peer[] slots = table;
    int mask = slots.length - 1;
    int i = slot(peer.id(), mask);
    while (slots[i] != peer) {
      if (slots[i] == null) {
        return; // never added: it closed before it opened
      }
      i = (i + 1) & mask;
    }
    slots[i] = null;
    size--;
    // Backward shift: move each later entry of the run into the gap if its home slot allows.
    for (int gap = i, j = (i + 1) & mask; slots[j] != null; j = (j + 1) & mask) {
      Peer moved = slots[j];
      int home = slot(moved.id(), mask);
      if (((j - home) & mask) >= ((j - gap) & mask)) {
        slots[gap] = moved;
        slots[j] = null;
        gap = j;
      }
    }
    if (table.length > MIN_CAPACITY && 8 * size < table.length) {
      resize(table.length / 2);
    }
  }

  synchronized @Nullable Peer get(long id) {
    @Nullable Peer[] slots = table;
    int mask = slots.length - 1;
    for (int i = slot(id, mask); ; i = (i + 1) & mask) {
      Peer peer = slots[i];
      if (peer == null || peer.id() == id) {
        return peer;
      }
    }
  }

  synchronized List<ConnectionInfo> all() {
    List<ConnectionInfo> all = new ArrayList<>(size);
    for (Peer peer : table) {
      if (peer != null) {
        all.add(peer);
      }
    }
    return all;
  }

  synchronized int size() {
    return size;
  }

  private void resize(int capacity) {
    @Nullable Peer[] resized = new Peer[capacity];
    for (Peer peer : table) {
      if (peer != null) {
        insert(resized, peer);
      }
    }
    table = resized;
  }

  private static void insert(@Nullable Peer[] slots, Peer peer) {
    int mask = slots.length - 1;
    int i = slot(peer.id(), mask);
    while (slots[i] != null) {
      i = (i + 1) & mask;
    }
    slots[i] = peer;
  }

  /** Ids are consecutive: a multiplicative hash spreads runs of them over the table. */
  private static int slot(long id, int mask) {
    return (int) ((id * 0x9E3779B97F4A7C15L) >>> 32) & mask;
  }
}
