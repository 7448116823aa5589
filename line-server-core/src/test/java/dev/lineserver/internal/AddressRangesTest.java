package dev.lineserver.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;

import dev.lineserver.internal.AddressRanges.Range;
import java.math.BigInteger;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

final class AddressRangesTest {
  private static final String EXPECTED =
      " (expected: an IPv4 or IPv6 literal, optionally /prefix with prefix 0..32 for IPv4, 0..128"
          + " for IPv6)";
  private static final BigInteger ONES = BigInteger.ONE.shiftLeft(128).subtract(BigInteger.ONE);
  private static final BigInteger MAPPED = BigInteger.valueOf(0xffffL).shiftLeft(32);

  private static Range range(String cidr) {
    return AddressRanges.parse("allow", cidr);
  }

  /** The JDK's parser, given only literals here, so it never looks anything up. */
  private static InetAddress ip(String literal) {
    try {
      return InetAddress.getByName(literal);
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  /** An Inet6Address even for ::ffff:a.b.c.d, which InetAddress.getByName turns into IPv4. */
  private static Inet6Address ipv6(byte[] bytes) {
    try {
      return Inet6Address.getByAddress(null, bytes, -1);
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  private static Inet6Address mapped(String ipv4) {
    byte[] bytes = new byte[16];
    bytes[10] = (byte) 0xff;
    bytes[11] = (byte) 0xff;
    System.arraycopy(ip(ipv4).getAddress(), 0, bytes, 12, 4);
    return ipv6(bytes);
  }

  @Test
  void parse_literalsAndPrefixes_printCanonically() {
    String[][] cases = {
      {"10.0.0.0/8", "10.0.0.0/8"},
      {"192.168.1.7", "192.168.1.7/32"},
      {"0.0.0.0/0", "0.0.0.0/0"},
      {"255.255.255.255/32", "255.255.255.255/32"},
      {"10.8.0.0/13", "10.8.0.0/13"},
      {"2001:db8::/32", "2001:db8::/32"},
      {"2001:0DB8:0000:0000:0000:0000:0000:0000/32", "2001:db8::/32"},
      {"::1", "::1/128"},
      {"::", "::/128"},
      {"::/0", "::/0"},
      {"1::", "1::/128"},
      {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0/128"},
      {"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8/128"},
      {"1:0:0:2:0:0:0:3", "1:0:0:2::3/128"},
      {"1:0:0:2:0:0:3:4", "1::2:0:0:3:4/128"},
      {"1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0/128"},
      {"fe80::/10", "fe80::/10"},
      {"2001:db8::/127", "2001:db8::/127"},
      {"::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104"},
      {"::FFFF:a00:0/104", "::ffff:10.0.0.0/104"},
      {"::ffff:0:0/96", "::ffff:0.0.0.0/96"},
      {"::1.2.3.4", "::102:304/128"},
      {"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304/128"},
      {"1::5:6:1.2.3.4", "1::5:6:102:304/128"},
    };
    for (String[] c : cases) {
      assertThat(range(c[0]).toString()).as(c[0]).isEqualTo(c[1]);
      assertThat(range(c[1]).toString()).as(c[1]).isEqualTo(c[1]);
    }
  }

  @Test
  void parse_notALiteral_throwsWithWhatTheValueAndWhatIsAccepted() {
    String[] bad = {
      "example.com",
      "localhost",
      "1.2.3",
      "1.2.3.4.5",
      "256.1.1.1",
      "01.2.3.4",
      "1.2.3.00",
      "1.2.3.4/",
      "1.2.3.4/-1",
      "1.2.3.4/+8",
      "1.2.3.4/08",
      "1.2.3.4/8/8",
      "1.2.3.4/1000",
      "/8",
      "",
      "/",
      " 1.2.3.4",
      "1.2.3.4 ",
      "1.2.3.4 /8",
      "1..2.3",
      ".1.2.3",
      "1.2.3.4.",
      "0x1.2.3.4",
      "１.2.3.4",
      "10.0.0.0/33",
      "fe80::1%eth0",
      "fe80::1%1",
      "[::1]",
      "::/129",
      ":",
      ":::",
      "1::2::3",
      "1:::2",
      ":1::",
      "::1:",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7:8::",
      "1:2:3:4:5:6:7::8",
      "12345::",
      "g::",
      "::ffff:1.2.3",
      "::ffff:1.2.3.4.5",
      "::ffff:256.0.0.0",
      "::ffff:01.2.3.4",
      "1.2.3.4::",
      "1.2.3.4::1",
      ":1.2.3.4",
      "1:2:3:4:5:6:7:1.2.3.4",
      "1:2:3:4:5:6:7::1.2.3.4",
      "::1.2.3.4:1",
    };
    for (String value : bad) {
      assertThatIllegalArgumentException()
          .as(value)
          .isThrownBy(() -> AddressRanges.parse("deny", value))
          .withMessage("deny: " + value + EXPECTED);
    }
    assertThatIllegalArgumentException()
        .isThrownBy(() -> AddressRanges.parse("allow", "10.0.0.0/33"))
        .withMessage(
            "allow: 10.0.0.0/33 (expected: an IPv4 or IPv6 literal, optionally /prefix with prefix"
                + " 0..32 for IPv4, 0..128 for IPv6)");
  }

  @Test
  void parse_bitsPastThePrefix_throwsNamingTheCanonicalForm() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> AddressRanges.parse("allow", "10.0.0.1/8"))
        .withMessage("allow: 10.0.0.1/8 (bits are set past the prefix; expected 10.0.0.0/8)");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> AddressRanges.parse("deny", "10.15.0.0/13"))
        .withMessage("deny: 10.15.0.0/13 (bits are set past the prefix; expected 10.8.0.0/13)");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> AddressRanges.parse("deny", "2001:db8::1/32"))
        .withMessage("deny: 2001:db8::1/32 (bits are set past the prefix; expected 2001:db8::/32)");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> AddressRanges.parse("deny", "::ffff:10.0.0.1/104"))
        .withMessageContaining("expected ::ffff:10.0.0.0/104");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> AddressRanges.parse("deny", "1.2.3.4/0"))
        .withMessageContaining("expected 0.0.0.0/0");
  }

  @Test
  void contains_prefixZero_matchesItsWholeFamily() {
    Range ipv4 = range("0.0.0.0/0");
    assertThat(ipv4.contains(ip("0.0.0.0"))).isTrue();
    assertThat(ipv4.contains(ip("255.255.255.255"))).isTrue();
    assertThat(ipv4.contains(mapped("203.0.113.9"))).isTrue();
    assertThat(ipv4.contains(ip("::1"))).isFalse();
    assertThat(ipv4.contains(ip("::"))).isFalse();
    assertThat(ipv4.contains(ip("2001:db8::1"))).isFalse();
    assertThat(ipv4.contains(ip("::ffff:0:1:2"))).isFalse();

    Range ipv6 = range("::/0");
    assertThat(ipv6.contains(ip("::"))).isTrue();
    assertThat(ipv6.contains(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))).isTrue();
    assertThat(ipv6.contains(ip("192.0.2.1"))).as("IPv4 is ::ffff:0:0/96 inside ::/0").isTrue();
  }

  @Test
  void contains_fullPrefix_matchesExactlyOneAddress() {
    Range ipv4 = range("192.168.1.7");
    assertThat(ipv4.contains(ip("192.168.1.7"))).isTrue();
    assertThat(ipv4.contains(ip("192.168.1.6"))).isFalse();
    assertThat(ipv4.contains(ip("192.168.1.8"))).isFalse();
    assertThat(ipv4.contains(ip("64.168.1.7"))).isFalse();

    Range ipv6 = range("2001:db8::7/128");
    assertThat(ipv6.contains(ip("2001:db8::7"))).isTrue();
    assertThat(ipv6.contains(ip("2001:db8::6"))).isFalse();
    assertThat(ipv6.contains(ip("2001:db8::8"))).isFalse();
    assertThat(ipv6.contains(ip("2001:db9::7"))).isFalse();
  }

  @Test
  void contains_prefixInsideAByte_splitsAtThatBit() {
    Range slash13 = range("10.8.0.0/13");
    assertThat(slash13.contains(ip("10.7.255.255"))).isFalse();
    assertThat(slash13.contains(ip("10.8.0.0"))).isTrue();
    assertThat(slash13.contains(ip("10.15.255.255"))).isTrue();
    assertThat(slash13.contains(ip("10.16.0.0"))).isFalse();

    Range slash127 = range("2001:db8::/127");
    assertThat(slash127.contains(ip("2001:db8::"))).isTrue();
    assertThat(slash127.contains(ip("2001:db8::1"))).isTrue();
    assertThat(slash127.contains(ip("2001:db8::2"))).isFalse();

    Range slash63 = range("2001:db8:0:fffe::/63");
    assertThat(slash63.contains(ip("2001:db8:0:fffe::"))).isTrue();
    assertThat(slash63.contains(ip("2001:db8:0:ffff:ffff:ffff:ffff:ffff"))).isTrue();
    assertThat(slash63.contains(ip("2001:db8:0:fffd:ffff:ffff:ffff:ffff"))).isFalse();
    assertThat(slash63.contains(ip("2001:db8:1::"))).isFalse();

    Range slash65 = range("2001:db8::8000:0:0:0/65");
    assertThat(slash65.contains(ip("2001:db8::8000:0:0:0"))).isTrue();
    assertThat(slash65.contains(ip("2001:db8::ffff:ffff:ffff:ffff"))).isTrue();
    assertThat(slash65.contains(ip("2001:db8::7fff:ffff:ffff:ffff"))).isFalse();
  }

  @Test
  void contains_ipv4Range_matchesTheMappedIpv6Form() {
    Range range = range("10.0.0.0/8");
    assertThat(mapped("10.1.2.3")).isInstanceOf(Inet6Address.class);
    assertThat(range.contains(mapped("10.1.2.3"))).isTrue();
    assertThat(range.contains(mapped("11.1.2.3"))).isFalse();
    assertThat(range.contains(ip("::a01:203"))).as("IPv4-compatible is not mapped").isFalse();
    assertThat(range("10.1.2.3").contains(mapped("10.1.2.3"))).isTrue();
  }

  @Test
  void contains_mappedIpv6Range_matchesPlainIpv4() {
    assertThat(ip("10.1.2.3")).isInstanceOf(Inet4Address.class);
    assertThat(range("::ffff:0:0/96").contains(ip("10.1.2.3"))).isTrue();
    assertThat(range("::ffff:0:0/96").contains(ip("::1"))).isFalse();
    assertThat(range("::ffff:10.0.0.0/104").contains(ip("10.1.2.3"))).isTrue();
    assertThat(range("::ffff:10.0.0.0/104").contains(ip("11.0.0.0"))).isFalse();
    assertThat(range("::ffff:10.1.2.3").contains(ip("10.1.2.3"))).isTrue();
    assertThat(range("::/64").contains(ip("10.1.2.3"))).isTrue();
    assertThat(range("::/96").contains(ip("10.1.2.3"))).isFalse();
  }

  @Test
  void contains_addressWithScope_matchesByItsBits() {
    InetAddress scoped = ip("fe80::1%1");
    assertThat(range("fe80::/10").contains(scoped)).isTrue();
    assertThat(range("fe80::1").contains(scoped)).isTrue();
  }

  @Test
  void allows_noRules_allowsEverything() {
    assertThat(AddressRanges.ALL.isEmpty()).isTrue();
    assertThat(AddressRanges.ALL.allows(ip("10.0.0.1"))).isTrue();
    assertThat(AddressRanges.ALL.allows(ip("::1"))).isTrue();
    assertThat(AddressRanges.ALL).hasToString("allow [], deny []");
  }

  @Test
  void allows_allowListOnly_allowsOnlyItsRanges() {
    AddressRanges ranges =
        new AddressRanges(List.of(range("10.0.0.0/8"), range("2001:db8::/32")), List.of());
    assertThat(ranges.isEmpty()).isFalse();
    assertThat(ranges.allows(ip("10.200.0.1"))).isTrue();
    assertThat(ranges.allows(ip("2001:db8::5"))).isTrue();
    assertThat(ranges.allows(ip("192.168.0.1"))).isFalse();
    assertThat(ranges.allows(ip("::1"))).isFalse();
  }

  @Test
  void allows_denyListOnly_allowsAllElse() {
    AddressRanges ranges = new AddressRanges(List.of(), List.of(range("10.0.0.0/8")));
    assertThat(ranges.isEmpty()).isFalse();
    assertThat(ranges.allows(ip("10.0.0.1"))).isFalse();
    assertThat(ranges.allows(mapped("10.0.0.1"))).isFalse();
    assertThat(ranges.allows(ip("11.0.0.1"))).isTrue();
    assertThat(ranges.allows(ip("::1"))).isTrue();
  }

  @Test
  void allows_deniedInsideAllowed_denyWins() {
    AddressRanges ranges =
        new AddressRanges(
            List.of(range("10.0.0.0/8")),
            List.of(AddressRanges.parse("deny", "10.1.0.0/16"), range("10.1.2.3")));
    assertThat(ranges.allows(ip("10.0.0.1"))).isTrue();
    assertThat(ranges.allows(ip("10.1.0.1"))).isFalse();
    assertThat(ranges.allows(ip("10.1.2.3"))).isFalse();
    assertThat(ranges.allows(ip("10.2.0.1"))).isTrue();
    assertThat(ranges.allows(ip("11.0.0.1"))).isFalse();
    assertThat(ranges).hasToString("allow [10.0.0.0/8], deny [10.1.0.0/16, 10.1.2.3/32]");
  }

  @Test
  void construct_listWithNull_throws() {
    List<Range> withNull = new ArrayList<>(Arrays.asList(range("10.0.0.0/8"), null));
    assertThatNullPointerException().isThrownBy(() -> new AddressRanges(withNull, List.of()));
  }

  /** Bit by bit, 128 bits wide, IPv4 as ::ffff:a.b.c.d. */
  private static boolean naiveContains(BigInteger network, int prefix, BigInteger address) {
    for (int bit = 127; bit > 127 - prefix; bit--) {
      if (network.testBit(bit) != address.testBit(bit)) {
        return false;
      }
    }
    return true;
  }

  private static BigInteger random128(SplittableRandom random) {
    byte[] bytes = new byte[16];
    random.nextBytes(bytes);
    return new BigInteger(1, bytes);
  }

  private static byte[] bytes(BigInteger value) {
    byte[] bytes = new byte[16];
    for (int i = 0; i < 16; i++) {
      bytes[i] = (byte) value.shiftRight(8 * (15 - i)).intValue();
    }
    return bytes;
  }

  private static String fullText(BigInteger value) {
    StringBuilder text = new StringBuilder();
    for (int i = 7; i >= 0; i--) {
      text.append(Integer.toHexString(value.shiftRight(16 * i).intValue() & 0xffff));
      text.append(i > 0 ? ":" : "");
    }
    return text.toString();
  }

  @Test
  void contains_randomRangesAndAddresses_matchTheBitByBitReference() {
    long seed = 7;
    System.out.println("seed " + seed);
    SplittableRandom random = new SplittableRandom(seed);
    for (int round = 0; round < 3000; round++) {
      boolean ipv4 = random.nextBoolean();
      BigInteger network;
      int prefix;
      String cidr;
      if (ipv4) {
        int width = random.nextInt(33);
        long bits = random.nextLong(1L << 32) & (0xffff_ffffL << (32 - width));
        network = MAPPED.or(BigInteger.valueOf(bits));
        prefix = width + 96;
        cidr = (bits >>> 24) + "." + (bits >>> 16 & 0xff) + "." + (bits >>> 8 & 0xff) + ".";
        cidr += (bits & 0xff) + "/" + width;
      } else {
        prefix = random.nextInt(129);
        BigInteger bits = random128(random);
        if (random.nextInt(4) == 0) {
          bits = MAPPED.or(bits.and(BigInteger.valueOf(0xffff_ffffL)));
        }
        network = bits.andNot(ONES.shiftRight(prefix));
        cidr = fullText(network) + "/" + prefix;
      }
      Range range = range(cidr);
      assertThat(range(range.toString()).toString()).as(cidr).isEqualTo(range.toString());
      AddressRanges allow = new AddressRanges(List.of(range), List.of());
      AddressRanges deny = new AddressRanges(List.of(), List.of(range));

      for (int probe = 0; probe < 30; probe++) {
        BigInteger candidate =
            switch (random.nextInt(4)) {
              case 0 -> random128(random);
              case 1 -> network.flipBit(random.nextInt(128));
              case 2 -> network.or(random128(random).and(ONES.shiftRight(prefix)));
              default -> MAPPED.or(BigInteger.valueOf(random.nextLong(1L << 32)));
            };
        byte[] bytes = bytes(candidate);
        InetAddress address;
        try {
          address = random.nextBoolean() ? InetAddress.getByAddress(bytes) : ipv6(bytes);
        } catch (UnknownHostException e) {
          throw new AssertionError(e);
        }
        boolean expected = naiveContains(network, prefix, candidate);
        String as = String.format("seed %d round %d: %s in %s", seed, round, address, range);
        assertThat(range.contains(address)).as(as).isEqualTo(expected);
        assertThat(allow.allows(address)).as(as).isEqualTo(expected);
        assertThat(deny.allows(address)).as(as).isEqualTo(!expected);
      }
    }
  }

  /**
   * Random IPv6 addresses, many zero words, written in full, with some zero run as "::", with
   * leading zeros and upper case, and canonically: each parses to the address the JDK reads from
   * that text, and the canonical text is what the JDK reads back too.
   */
  @Test
  void parse_randomIpv6Text_agreesWithTheJdk() {
    long seed = 7;
    System.out.println("seed " + seed);
    SplittableRandom random = new SplittableRandom(seed);
    for (int round = 0; round < 3000; round++) {
      int[] words = new int[8];
      for (int i = 0; i < 8; i++) {
        words[i] = random.nextBoolean() ? 0 : random.nextInt(1 << (4 * random.nextInt(1, 5)));
      }
      int gapStart = random.nextInt(8);
      int gapEnd = gapStart;
      while (gapEnd < 8 && words[gapEnd] == 0) {
        gapEnd++;
      }
      StringBuilder full = new StringBuilder();
      StringBuilder padded = new StringBuilder();
      StringBuilder compressed = new StringBuilder();
      for (int i = 0; i < 8; i++) {
        full.append(Integer.toHexString(words[i])).append(i < 7 ? ":" : "");
        padded.append(String.format("%04X", words[i])).append(i < 7 ? ":" : "");
      }
      for (int i = 0; i < 8; i++) {
        if (i == gapStart && gapEnd > gapStart) {
          compressed.append(i == 0 ? "::" : ":");
          i = gapEnd - 1;
        } else {
          compressed.append(Integer.toHexString(words[i])).append(i < 7 ? ":" : "");
        }
      }
      String canonical = range(full.toString()).toString().replace("/128", "");
      String as = String.format("seed %d round %d: %s", seed, round, full);
      for (String text : List.of(full.toString(), padded.toString(), compressed.toString())) {
        Range range = range(text);
        assertThat(range.contains(ip(text))).as(as + " " + text).isTrue();
        assertThat(range).as(as + " " + text).hasToString(canonical + "/128");
      }
      assertThat(range(canonical).contains(ip(full.toString()))).as(as).isTrue();
      assertThat(ip(canonical)).as(as).isEqualTo(ip(full.toString()));
    }
  }
}
