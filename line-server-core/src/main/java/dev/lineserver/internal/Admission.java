package dev.lineserver.internal;

import dev.lineserver.RefusalReason;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * Refuses connections outside the allowed ranges or past a limit, counting open ones in all and per
 * IP address. Any thread may call it; a connection's {@link Peer} records which address it is
 * counted under, so that release gives back exactly what admitting took. With the PROXY protocol
 * the per-address count is taken when the header is read, for the address the connection then has.
 * An address's entry is removed when its last connection closes.
 */
final class Admission {
  private final int maxConnections;
  private final int maxPerAddress;
  private final boolean perAddressAfterHeader;
  private final AddressRanges ranges;
  private final AtomicInteger open = new AtomicInteger();
  private final ConcurrentHashMap<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();

  /**
   * With {@code perAddressAfterHeader} (the PROXY protocol is on), {@link #admit} counts a
   * connection in all only, and {@link #admitAfterHeader} counts it per address.
   */
  Admission(
      int maxConnections, int maxPerAddress, boolean perAddressAfterHeader, AddressRanges ranges) {
    this.maxConnections = maxConnections;
    this.maxPerAddress = maxPerAddress;
    this.perAddressAfterHeader = perAddressAfterHeader;
    this.ranges = ranges;
  }

  /** At accept: counts the connection in, or returns why it is refused (and counts nothing). */
  @Nullable RefusalReason admit(Peer peer) {
    SocketAddress remote = peer.remoteAddress();
    if (!allows(remote)) {
      return RefusalReason.NOT_ALLOWED;
    }
    if (open.incrementAndGet() > maxConnections) {
      open.decrementAndGet();
      return RefusalReason.MAX_CONNECTIONS;
    }
    if (!perAddressAfterHeader && !countPerAddress(peer)) {
      open.decrementAndGet();
      return RefusalReason.MAX_CONNECTIONS_PER_ADDRESS;
    }
    return null;
  }

  /**
   * Once the PROXY header phase is over: counts the connection under its remote address (the client
   * the header named, else the socket's peer), or returns why it is refused. {@link #release} is
   * still due either way.
   */
  @Nullable RefusalReason admitAfterHeader(Peer peer) {
    return countPerAddress(peer) ? null : RefusalReason.MAX_CONNECTIONS_PER_ADDRESS;
  }

  /** Whether the ranges let {@code remote} in. */
  boolean allows(SocketAddress remote) {
    return ranges.isEmpty()
        || !(remote instanceof InetSocketAddress inet)
        || inet.getAddress() == null
        || ranges.allows(inet.getAddress());
  }

  /** Counts an admitted connection out, under the address it was counted under, if any. */
  void release(Peer peer) {
    open.decrementAndGet();
    InetAddress address = peer.countedAddress();
    if (address != null) {
      perAddress.computeIfPresent(address, (key, count) -> count == 1 ? null : count - 1);
    }
  }

  int open() {
    return open.get();
  }

  /** Number of addresses with a connection counted under them; for tests. */
  int addressesCounted() {
    return perAddress.size();
  }

  /** Counts {@code peer} under its remote address unless that one is full; true if not refused. */
  private boolean countPerAddress(Peer peer) {
    if (maxPerAddress == Integer.MAX_VALUE
        || !(peer.remoteAddress() instanceof InetSocketAddress inet)
        || inet.getAddress() == null) {
      return true;
    }
    InetAddress address = inet.getAddress();
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
      return false;
    }
    peer.countedUnder(address);
    return true;
  }
}
