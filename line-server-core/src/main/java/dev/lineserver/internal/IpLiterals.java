package dev.lineserver.internal;

import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * Parses IP address literals from ASCII bytes, strictly and without any name lookup: for PROXY
 * protocol headers and for allow/deny ranges. Stateless.
 */
final class IpLiterals {
  private IpLiterals() {}

  /** An IPv4 literal's 4 bytes: four decimals 0..255 without leading zeros; null if malformed. */
  static byte @Nullable [] ipv4(byte[] text, int from, int to) {
    byte[] address = new byte[4];
    int at = from;
    for (int i = 0; i < 4; i++) {
      int partEnd = i < 3 ? indexOf(text, at, to, '.') : to;
      int value = partEnd < 0 ? -1 : decimal(text, at, partEnd, 255);
      if (value < 0) {
        return null;
      }
      address[i] = (byte) value;
      at = partEnd + 1;
    }
    return address;
  }

  /**
   * An IPv6 literal's 16 bytes: eight groups of 1 to 4 hex digits, at most one {@code ::} for one
   * or more zero groups, the last two groups optionally an IPv4 literal; no zone. Null if
   * malformed.
   */
  static byte @Nullable [] ipv6(byte[] text, int from, int to) {
    byte[] address = new byte[16];
    int length = 0;
    int gap = -1;
    int at = from;
    if (to - from >= 2 && text[at] == ':' && text[at + 1] == ':') {
      gap = 0;
      at += 2;
    }
    while (at < to) {
      int groupAt = at;
      int value = 0;
      while (at < to && at - groupAt < 4 && hexDigit(text[at]) >= 0) {
        value = (value << 4) | hexDigit(text[at++]);
      }
      if (at < to && text[at] == '.') {
        byte[] ipv4 = length <= 12 ? ipv4(text, groupAt, to) : null;
        if (ipv4 == null) {
          return null;
        }
        System.arraycopy(ipv4, 0, address, length, 4);
        length += 4;
        break;
      }
      if (at == groupAt || length == 16) {
        return null;
      }
      address[length++] = (byte) (value >>> 8);
      address[length++] = (byte) value;
      if (at == to) {
        break;
      }
      if (text[at++] != ':' || at == to) {
        return null;
      }
      if (text[at] == ':') {
        if (gap >= 0) {
          return null;
        }
        gap = length;
        at++;
      }
    }
    if (gap < 0) {
      return length == 16 ? address : null;
    }
    if (length == 16) {
      return null;
    }
    int tail = length - gap;
    System.arraycopy(address, gap, address, 16 - tail, tail);
    Arrays.fill(address, gap, 16 - tail, (byte) 0);
    return address;
  }

  /** A decimal of 1 to 5 digits without a leading zero, at most {@code max}; else -1. */
  static int decimal(byte[] text, int from, int to, int max) {
    if (from == to || to - from > 5 || (text[from] == '0' && to - from > 1)) {
      return -1;
    }
    int value = 0;
    for (int i = from; i < to; i++) {
      int digit = text[i] - '0';
      if (digit < 0 || digit > 9) {
        return -1;
      }
      value = value * 10 + digit;
    }
    return value <= max ? value : -1;
  }

  private static int hexDigit(byte b) {
    if (b >= '0' && b <= '9') {
      return b - '0';
    }
    int lower = b | 0x20;
    return lower >= 'a' && lower <= 'f' ? lower - 'a' + 10 : -1;
  }

  private static int indexOf(byte[] text, int from, int to, char c) {
    for (int i = from; i < to; i++) {
      if (text[i] == c) {
        return i;
      }
    }
    return -1;
  }
}
