package dev.lineserver.internal;

import dev.lineserver.RefusalReason;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * Refuses connections from addresses outside the allowed ranges, counts open connections, in all
 * and per IP address, and refuses those past a limit. The acceptor admits; whichever thread closes
 * a connection releases it. A remote address that is not an IP address (a Unix socket's) passes the
 * ranges. Per-address counts are kept only when that limit is set, and an address's entry is
 * removed when its last connection closes.
 */
public final class Admission {
  private final int maxConnections;
  private final int maxPerAddress;
  private final AddressRanges ranges;
  private final AtomicInteger open = new AtomicInteger();
  private final ConcurrentHashMap<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();

  public Admission(int maxConnections, int maxPerAddress, AddressRanges ranges) {
    this.maxConnections = maxConnections;
    this.maxPerAddress = maxPerAddress;
    this.ranges = ranges;
  }

  /** Counts the connection in, or returns why it is refused (and counts nothing). */
  @Nullable RefusalReason admit(SocketAddress remote) {
    if (!allows(remote)) {
      return RefusalReason.NOT_ALLOWED;
    }
    if (open.incrementAndGet() > maxConnections) {
      open.decrementAndGet();
      return RefusalReason.MAX_CONNECTIONS;
    }
    InetAddress address = addressOf(remote);
    if (address == null) {
      return null;
    }
    boolean[] refused = {false};
    perAddress.compute(
        address,
        (key, count) -> {
          int current = count == null ? 0 : count;
          if (current >= maxPerAddress) {
            refused[0] = true;
            return count;
          }
          return current + 1;
        });
    if (refused[0]) {
      open.decrementAndGet();
      return RefusalReason.MAX_CONNECTIONS_PER_ADDRESS;
    }
    return null;
  }

  /** Whether the ranges let {@code remote} in. */
  boolean allows(SocketAddress remote) {
    return ranges.isEmpty()
        || !(remote instanceof InetSocketAddress inet)
        || inet.getAddress() == null
        || ranges.allows(inet.getAddress());
  }

  /** Counts an admitted connection out. */
  void release(SocketAddress remote) {
    open.decrementAndGet();
    InetAddress address = addressOf(remote);
    if (address != null) {
      perAddress.computeIfPresent(address, (key, count) -> count == 1 ? null : count - 1);
    }
  }

  public int open() {
    return open.get();
  }

  private @Nullable InetAddress addressOf(SocketAddress remote) {
    if (maxPerAddress == Integer.MAX_VALUE || !(remote instanceof InetSocketAddress inet)) {
      return null;
    }
    return inet.getAddress();
  }
}
