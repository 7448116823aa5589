package dev.lineserver.internal;

import java.net.InetAddress;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Allow and deny lists of CIDR ranges that the acceptor checks each remote address against.
 * Immutable, so any thread may call {@link #allows}. Every address is compared as 128 bits, IPv4
 * a.b.c.d as ::ffff:a.b.c.d: IPv4 ranges match mapped IPv6 addresses, and IPv6 ranges covering
 * ::ffff:0:0/96 (::/0 too) match IPv4. Parsing reads literals only, never DNS, and rejects leading
 * zeros in decimals, zone ids, and bits set past the prefix (the message gives the canonical form).
 */
public final class AddressRanges {
  private static final String EXPECTED =
      " (expected: an IPv4 or IPv6 literal, optionally /prefix with prefix 0..32 for IPv4, 0..128"
          + " for IPv6)";
  private static final long MAPPED = 0xffff_0000_0000L;

  public static final AddressRanges ALL = new AddressRanges(List.of(), List.of());

  private final Range[] allow;
  private final Range[] deny;

  public AddressRanges(List<Range> allow, List<Range> deny) {
    this.allow = List.copyOf(allow).toArray(new Range[0]);
    this.deny = List.copyOf(deny).toArray(new Range[0]);
  }

  /**
   * Parses one range: {@code "10.0.0.0/8"}, {@code "192.168.1.7"} (= /32), {@code "2001:db8::/32"},
   * {@code "::1"} (= /128), {@code "::ffff:10.0.0.0/104"}. The message of the {@code
   * IllegalArgumentException} for a bad value starts with {@code what}, then the value.
   */
  public static Range parse(String what, String cidr) {
    int slash = cidr.indexOf('/');
    String literal = slash < 0 ? cidr : cidr.substring(0, slash);
    boolean ipv4 = literal.indexOf(':') < 0;
    long[] bits = address(literal);
    int max = ipv4 ? 32 : 128;
    int prefix = slash < 0 ? max : decimal(cidr.substring(slash + 1), max);
    if (bits == null || prefix < 0) {
      throw new IllegalArgumentException(what + ": " + cidr + EXPECTED);
    }
    Range range = new Range(bits[0], bits[1], ipv4 ? prefix + 96 : prefix, ipv4);
    if (range.high != bits[0] || range.low != bits[1]) {
      throw new IllegalArgumentException(
          what + ": " + cidr + " (bits are set past the prefix; expected " + range + ")");
    }
    return range;
  }

  /**
   * Deny wins; with an empty allow list every address not denied is allowed; with a non-empty allow
   * list only addresses in it (and not denied). Allocates nothing but the array of {@link
   * InetAddress#getAddress}.
   */
  public boolean allows(InetAddress address) {
    byte[] bytes = address.getAddress();
    long high = high(bytes);
    long low = low(bytes);
    for (Range range : deny) {
      if (range.contains(high, low)) {
        return false;
      }
    }
    if (allow.length == 0) {
      return true;
    }
    for (Range range : allow) {
      if (range.contains(high, low)) {
        return true;
      }
    }
    return false;
  }

  public boolean isEmpty() {
    return allow.length == 0 && deny.length == 0;
  }

  @Override
  public String toString() {
    return "allow " + Arrays.toString(allow) + ", deny " + Arrays.toString(deny);
  }

  /** One CIDR range, as 128 bits with the bits past the prefix zero. */
  public static final class Range {
    private final long high;
    private final long low;
    private final long highMask;
    private final long lowMask;
    private final int prefix;
    private final boolean ipv4;

    private Range(long high, long low, int prefix, boolean ipv4) {
      this.highMask = prefix == 0 ? 0 : -1L << Math.max(0, 64 - prefix);
      this.lowMask = prefix <= 64 ? 0 : -1L << (128 - prefix);
      this.high = high & highMask;
      this.low = low & lowMask;
      this.prefix = prefix;
      this.ipv4 = ipv4;
    }

    public boolean contains(InetAddress address) {
      byte[] bytes = address.getAddress();
      return contains(high(bytes), low(bytes));
    }

    private boolean contains(long addressHigh, long addressLow) {
      return (addressHigh & highMask) == high && (addressLow & lowMask) == low;
    }

    /**
     * The canonical form: {@code 10.0.0.0/8}, {@code 2001:db8::/32}, {@code ::ffff:10.0.0.0/104}.
     */
    @Override
    public String toString() {
      return ipv4 ? ipv4Text(low) + "/" + (prefix - 96) : ipv6Text(high, low) + "/" + prefix;
    }
  }

  private static long high(byte[] bytes) {
    return bytes.length == 4 ? 0 : bits(bytes, 0, 8);
  }

  private static long low(byte[] bytes) {
    return bytes.length == 4 ? MAPPED | bits(bytes, 0, 4) : bits(bytes, 8, 16);
  }

  private static long bits(byte[] bytes, int from, int to) {
    long bits = 0;
    for (int i = from; i < to; i++) {
      bits = bits << 8 | (bytes[i] & 0xff);
    }
    return bits;
  }

  /** Returns {high, low} of an IPv4 or IPv6 literal, or null if it is not one. */
  private static long @Nullable [] address(String literal) {
    byte[] text = ascii(literal);
    if (text == null) {
      return null;
    }
    byte[] bytes =
        literal.indexOf(':') < 0
            ? IpLiterals.ipv4(text, 0, text.length)
            : IpLiterals.ipv6(text, 0, text.length);
    return bytes == null ? null : new long[] {high(bytes), low(bytes)};
  }

  /** Returns the value of ASCII decimal digits without a leading zero, if at most max; else -1. */
  private static int decimal(String text, int max) {
    byte[] digits = ascii(text);
    return digits == null ? -1 : IpLiterals.decimal(digits, 0, digits.length, max);
  }

  /** The text's bytes if it is all ASCII, else null. */
  private static byte @Nullable [] ascii(String text) {
    byte[] bytes = new byte[text.length()];
    for (int i = 0; i < bytes.length; i++) {
      char c = text.charAt(i);
      if (c > 0x7F) {
        return null;
      }
      bytes[i] = (byte) c;
    }
    return bytes;
  }

  private static String ipv4Text(long bits) {
    return (bits >>> 24 & 0xff)
        + "."
        + (bits >>> 16 & 0xff)
        + "."
        + (bits >>> 8 & 0xff)
        + "."
        + (bits & 0xff);
  }

  /** RFC 5952: lower case, no leading zeros, the first longest run of 2+ zero words as "::". */
  private static String ipv6Text(long high, long low) {
    if (high == 0 && low >>> 32 == 0xffff) {
      return "::ffff:" + ipv4Text(low);
    }
    int[] words = new int[8];
    for (int i = 0; i < 8; i++) {
      words[i] = (int) ((i < 4 ? high : low) >>> (48 - 16 * (i % 4)) & 0xffff);
    }
    int runStart = -1;
    int runLength = 1;
    for (int i = 0; i < 8; i++) {
      int end = i;
      while (end < 8 && words[end] == 0) {
        end++;
      }
      if (end - i > runLength) {
        runStart = i;
        runLength = end - i;
      }
    }
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      if (i == runStart) {
        text.append("::");
        i += runLength - 1;
      } else {
        if (text.length() > 0 && text.charAt(text.length() - 1) != ':') {
          text.append(':');
        }
        text.append(Integer.toHexString(words[i]));
      }
    }
    return text.toString();
  }
}
