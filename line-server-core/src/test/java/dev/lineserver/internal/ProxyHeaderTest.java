package dev.lineserver.internal;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lineserver.internal.ProxyHeader.Status;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class ProxyHeaderTest {

  private static final int MAX = ProxyHeader.DEFAULT_MAX_V2_LENGTH;
  private static final byte[] FIRST_LINE = bytes("PING 1\r\n");
  private static final byte[] V2_SIGNATURE = bytes("\r\n\r\n\0\r\nQUIT\n");

  private static final byte[] V1_TCP4 = bytes("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n");
  private static final byte[] V1_TCP6 =
      bytes("PROXY TCP6 2001:db8::1 ::ffff:192.0.2.1 65535 0\r\n");
  private static final byte[] V1_UNKNOWN = bytes("PROXY UNKNOWN\r\n");
  private static final byte[] V1_UNKNOWN_WITH_ADDRESSES =
      bytes("PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:fff 65535 65535\r\n");

  private static final byte[] TLVS =
      concat(
          tlv(0x01, bytes("h2")),
          tlv(0x04, new byte[3]),
          tlv(0x05, bytes("a unique id")),
          // Claims 0xFFFF bytes, but the header ends two bytes later.
          bytes("\u0020\u00FF\u00FF\u0000\u0000"));
  private static final byte[] V2_TCP4 =
      v2(
          0x21,
          0x11,
          concat(
              bytes("\u00C0\u0000\u0002\u0001"),
              bytes("\u00C6\u0033\u0064\u0002"),
              bytes("\u00DC\u0004\u0001\u00BB"),
              TLVS));
  private static final byte[] V2_TCP6 =
      v2(
          0x21,
          0x21,
          concat(
              address("2001:db8::1"),
              address("2001:db8::2"),
              bytes("\u00DC\u0004\u0001\u00BB"),
              TLVS));
  private static final byte[] V2_UNSPEC = v2(0x21, 0x00, TLVS);
  private static final byte[] V2_UNIX =
      v2(
          0x21,
          0x31,
          concat(
              Arrays.copyOf(bytes("/run/client.sock"), 108),
              Arrays.copyOf(bytes("/run/server.sock"), 108),
              TLVS));
  private static final byte[] V2_LOCAL = v2(0x20, 0x00, new byte[0]);
  private static final byte[] V2_LOCAL_WITH_ADDRESSES =
      v2(0x20, 0x11, Arrays.copyOfRange(V2_TCP4, 16, V2_TCP4.length));

  private static final List<byte[]> VALID_HEADERS =
      List.of(
          V1_TCP4,
          V1_TCP6,
          V1_UNKNOWN,
          V1_UNKNOWN_WITH_ADDRESSES,
          V2_TCP4,
          V2_TCP6,
          V2_UNSPEC,
          V2_UNIX,
          V2_LOCAL,
          V2_LOCAL_WITH_ADDRESSES);

  // ---- valid headers, split at every byte ----

  @Test
  void feed_v1Tcp4_everySplit_decodesAddressesAndStopsAtTheHeaderEnd() throws Exception {
    ProxyHeader header = decodeEverySplit(V1_TCP4);
    assertThat(header.version()).isEqualTo(1);
    assertThat(header.local()).isFalse();
    assertThat(header.source()).isEqualTo(socketAddress("192.0.2.1", 56324));
    assertThat(header.destination()).isEqualTo(socketAddress("198.51.100.2", 443));
  }

  @Test
  void feed_v1Tcp6_everySplit_decodesAddresses() throws Exception {
    ProxyHeader header = decodeEverySplit(V1_TCP6);
    assertThat(header.version()).isEqualTo(1);
    assertThat(header.source()).isEqualTo(socketAddress("2001:db8::1", 65535));
    assertThat(header.destination()).isEqualTo(socketAddress("::ffff:192.0.2.1", 0));
  }

  @Test
  void feed_v1Unknown_everySplit_hasNoAddresses() throws Exception {
    for (byte[] unknown : List.of(V1_UNKNOWN, V1_UNKNOWN_WITH_ADDRESSES)) {
      ProxyHeader header = decodeEverySplit(unknown);
      assertThat(header.version()).isEqualTo(1);
      assertThat(header.source()).isNull();
      assertThat(header.destination()).isNull();
    }
  }

  @Test
  void feed_v2Tcp4WithTlvs_everySplit_decodesAddressesAndSkipsTheTlvs() throws Exception {
    ProxyHeader header = decodeEverySplit(V2_TCP4);
    assertThat(header.version()).isEqualTo(2);
    assertThat(header.local()).isFalse();
    assertThat(header.source()).isEqualTo(socketAddress("192.0.2.1", 56324));
    assertThat(header.destination()).isEqualTo(socketAddress("198.51.100.2", 443));
  }

  @Test
  void feed_v2Tcp6WithTlvs_everySplit_decodesAddressesAndSkipsTheTlvs() throws Exception {
    ProxyHeader header = decodeEverySplit(V2_TCP6);
    assertThat(header.version()).isEqualTo(2);
    assertThat(header.source()).isEqualTo(socketAddress("2001:db8::1", 56324));
    assertThat(header.destination()).isEqualTo(socketAddress("2001:db8::2", 443));
  }

  @Test
  void feed_v2UnspecAndUnix_everySplit_hasNoAddresses() throws Exception {
    for (byte[] v2 : List.of(V2_UNSPEC, V2_UNIX)) {
      ProxyHeader header = decodeEverySplit(v2);
      assertThat(header.version()).isEqualTo(2);
      assertThat(header.local()).isFalse();
      assertThat(header.source()).isNull();
      assertThat(header.destination()).isNull();
    }
  }

  @Test
  void feed_v2Local_everySplit_isLocalAndIgnoresTheAddresses() throws Exception {
    for (byte[] v2 :
        List.of(
            V2_LOCAL, V2_LOCAL_WITH_ADDRESSES, v2(0x20, 0x12, new byte[5]), v2(0x20, 0xFF, TLVS))) {
      ProxyHeader header = decodeEverySplit(v2);
      assertThat(header.version()).isEqualTo(2);
      assertThat(header.local()).isTrue();
      assertThat(header.source()).isNull();
      assertThat(header.destination()).isNull();
    }
  }

  @Test
  void feed_directBufferAtAnOffset_leavesTheFirstLine() throws Exception {
    for (byte[] valid : VALID_HEADERS) {
      ByteBuffer src = ByteBuffer.allocateDirect(3 + valid.length + FIRST_LINE.length);
      src.put(bytes("xyz")).put(valid).put(FIRST_LINE).flip().position(3);
      ProxyHeader header = new ProxyHeader(false, MAX);
      assertThat(header.feed(src)).isEqualTo(Status.DONE);
      assertThat(src.position()).isEqualTo(3 + valid.length);
    }
  }

  @Test
  void feed_emptyBuffer_needsMore() throws Exception {
    ProxyHeader header = new ProxyHeader(false, MAX);
    assertThat(header.feed(ByteBuffer.allocate(0))).isEqualTo(Status.NEED_MORE);
    assertThat(header.feed(ByteBuffer.wrap(V1_TCP4))).isEqualTo(Status.DONE);
  }

  // ---- bounds ----

  @Test
  void feed_v1Of107Bytes_isAccepted() throws Exception {
    byte[] longest = v1Unknown(107);
    assertThat(longest).hasSize(107);
    assertThat(decodeEverySplit(longest).source()).isNull();
  }

  @Test
  void feed_v1WithoutLfWithin107Bytes_throwsAtThe107thByte() throws Exception {
    byte[] tooLong = v1Unknown(108);
    ProxyHeader header = new ProxyHeader(false, MAX);
    for (int i = 0; i < 106; i++) {
      assertThat(header.feed(ByteBuffer.wrap(tooLong, i, 1))).isEqualTo(Status.NEED_MORE);
    }
    ByteBuffer src = ByteBuffer.wrap(tooLong, 106, 2);
    assertThatThrownBy(() -> header.feed(src))
        .isInstanceOf(ProxyHeaderException.class)
        .hasMessage(
            "PROXY v1 header: no LF within 107 bytes: \"PROXY UNKNOWN xxxxxxxxxxxxxxxxxx\"...");
    assertThat(src.position()).isEqualTo(107);
  }

  @Test
  void feed_v2LengthAboveTheCap_throwsOnceTheFixedPartArrived() throws Exception {
    byte[] fixed = Arrays.copyOf(v2(0x21, 0x11, new byte[301]), 16);
    ProxyHeader header = new ProxyHeader(false, 300);
    assertThat(header.feed(ByteBuffer.wrap(fixed, 0, 15))).isEqualTo(Status.NEED_MORE);
    assertThatThrownBy(() -> header.feed(ByteBuffer.wrap(fixed, 15, 1)))
        .isInstanceOf(ProxyHeaderException.class)
        .hasMessage("PROXY v2 header: length 301 (expected: 12..300)");

    byte[] max = v2(0x21, 0x11, new byte[300]);
    assertThat(new ProxyHeader(false, 300).feed(ByteBuffer.wrap(max))).isEqualTo(Status.DONE);
  }

  @Test
  void feed_v2LengthBelowTheAddresses_throws() {
    assertThrows(v2(0x21, 0x11, new byte[11]), "PROXY v2 header: length 11 (expected: 12..4096)");
    assertThrows(v2(0x21, 0x21, new byte[35]), "PROXY v2 header: length 35 (expected: 36..4096)");
    assertThrows(
        v2(0x21, 0x31, new byte[215]), "PROXY v2 header: length 215 (expected: 216..4096)");
  }

  @Test
  void constructor_maxV2LengthOutOfRange_throws() {
    assertThatThrownBy(() -> new ProxyHeader(false, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxV2Length: 0 (expected: 216..65535)");
    assertThatThrownBy(() -> new ProxyHeader(true, 65536))
        .hasMessage("maxV2Length: 65536 (expected: 216..65535)");
    new ProxyHeader(true, 216);
    new ProxyHeader(true, 65535);
  }

  // ---- not a PROXY header ----

  @Test
  void feed_requiredModeNotASignature_throwsAtTheFirstByteThatRulesItOut() throws Exception {
    assertThrows(
        bytes("GET / HTTP/1.1\r\n"), "not a PROXY protocol header: \"GET / HTTP/1.1\\r\\n\"");
    assertThrows(
        bytes("\r\n\r\n\0\r\nQUIX\n"),
        "not a PROXY protocol header: \"\\r\\n\\r\\n\\x00\\r\\nQUIX\\n\"");

    ProxyHeader header = new ProxyHeader(false, MAX);
    byte[] line = bytes("PRIORITY 1\n");
    assertThat(header.feed(ByteBuffer.wrap(line, 0, 1))).isEqualTo(Status.NEED_MORE);
    assertThat(header.feed(ByteBuffer.wrap(line, 1, 1))).isEqualTo(Status.NEED_MORE);
    assertThatThrownBy(() -> header.feed(ByteBuffer.wrap(line, 2, 9)))
        .isInstanceOf(ProxyHeaderException.class)
        .hasMessage("not a PROXY protocol header: \"PRIORITY 1\\n\"");
  }

  @Test
  void feed_requiredModeLongNonProxyInput_showsAtMost32Bytes() {
    assertThrows(
        bytes("GET /a/rather/long/path/that/goes/on HTTP/1.1\r\n"),
        "not a PROXY protocol header: \"GET /a/rather/long/path/that/goe\"...");
  }

  @Test
  void feed_optionalModeOneByteAtATime_holdsTheSignaturePrefixAndLeavesTheDecidingByte()
      throws Exception {
    ProxyHeader header = new ProxyHeader(true, MAX);
    byte[] line = bytes("PRIORITY 1\n");
    assertThat(header.feed(ByteBuffer.wrap(line, 0, 1))).isEqualTo(Status.NEED_MORE);
    assertThat(header.feed(ByteBuffer.wrap(line, 1, 1))).isEqualTo(Status.NEED_MORE);
    ByteBuffer src = ByteBuffer.wrap(line, 2, 1);
    assertThat(header.feed(src)).isEqualTo(Status.NOT_PROXY);
    assertThat(string(header.heldBytes())).isEqualTo("PR");
    assertThat(src.position()).isEqualTo(2);
    assertThat(header.version()).isZero();
  }

  @Test
  void feed_optionalModeWholeLine_consumesNothing() throws Exception {
    for (String line : List.of("PRIORITY 1\n", "GET / HTTP/1.1\r\n", "\r\nhello\n", "PROXYZ\n")) {
      ProxyHeader header = new ProxyHeader(true, MAX);
      ByteBuffer src = ByteBuffer.wrap(bytes(line));
      assertThat(header.feed(src)).isEqualTo(Status.NOT_PROXY);
      assertThat(src.position()).isZero();
      assertThat(header.heldBytes().remaining()).isZero();
    }
  }

  @Test
  void feed_optionalModeValidHeader_isDecoded() throws Exception {
    ProxyHeader header = new ProxyHeader(true, MAX);
    assertThat(header.feed(ByteBuffer.wrap(V2_TCP4))).isEqualTo(Status.DONE);
    assertThat(header.source()).isEqualTo(socketAddress("192.0.2.1", 56324));
  }

  @Test
  void feed_optionalModeRandomSplits_heldBytesThenTheRestAreTheStream() throws Exception {
    long seed = 42;
    System.out.println("ProxyHeaderTest optional-mode seed " + seed);
    SplittableRandom random = new SplittableRandom(seed);
    List<byte[]> streams =
        List.of(
            bytes("PRIORITY 1\n"),
            bytes("PROXYZ 1\n"),
            bytes("\r\n\r\n\0\r\nQUIX\n"),
            bytes("\r\nhello\r\n"),
            bytes("x"),
            bytes("P"),
            bytes("\r\n\r\n\0\r\nQUIT"),
            bytes(""));
    for (byte[] stream : streams) {
      for (int i = 0; i < 500; i++) {
        Run run = run(stream, true, MAX, chunks(stream.length, random));
        assertThat(run.status).isIn(Status.NOT_PROXY, Status.NEED_MORE);
        assertThat(run.delivered)
            .as("%s", ProxyHeader.quote(stream, 0, stream.length))
            .isEqualTo(stream);
      }
    }
  }

  @Test
  void heldBytes_afterASignature_isAnError() throws Exception {
    ProxyHeader header = new ProxyHeader(true, MAX);
    header.feed(ByteBuffer.wrap(bytes("PROXY T")));
    assertThatThrownBy(header::heldBytes).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void feed_afterADecision_isAnError() throws Exception {
    ProxyHeader done = new ProxyHeader(false, MAX);
    done.feed(ByteBuffer.wrap(V1_TCP4));
    assertThatThrownBy(() -> done.feed(ByteBuffer.wrap(FIRST_LINE)))
        .isInstanceOf(IllegalStateException.class);

    ProxyHeader failed = new ProxyHeader(false, MAX);
    assertThatThrownBy(() -> failed.feed(ByteBuffer.wrap(FIRST_LINE)))
        .isInstanceOf(ProxyHeaderException.class);
    assertThatThrownBy(() -> failed.feed(ByteBuffer.wrap(V1_TCP4)))
        .isInstanceOf(IllegalStateException.class);
  }

  // ---- strict v1 ----

  @ParameterizedTest
  @ValueSource(
      strings = {
        "PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222 \r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222 3333\r\n",
        "PROXY TCP4  1.2.3.4 5.6.7.8 1111 2222\r\n",
        "PROXY  TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 1111\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8\r\n",
        "PROXY TCP4\r\n",
        "PROXY \r\n",
        "PROXY tcp4 1.2.3.4 5.6.7.8 1111 2222\r\n",
        "PROXY TCP5 1.2.3.4 5.6.7.8 1111 2222\r\n",
        "PROXY UDP4 1.2.3.4 5.6.7.8 1111 2222\r\n",
        "PROXY UNKNOWNX\r\n",
        "PROXY UNKNOWN\r\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 1111 65536\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 +1111 2222\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2222\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 01111 2222\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 1111 222222\r\n",
        "PROXY TCP4 1.2.3.4 5.6.7.8 0x11 2222\r\n",
        "PROXY TCP4 1.2.3 5.6.7.8 1111 2222\r\n",
        "PROXY TCP4 1.2.3.4.5 5.6.7.8 1111 2222\r\n",
        "PROXY TCP4 1.2.3.256 5.6.7.8 1111 2222\r\n",
        "PROXY TCP4 01.2.3.4 5.6.7.8 1111 2222\r\n",
        "PROXY TCP4 1..3.4 5.6.7.8 1111 2222\r\n",
        "PROXY TCP4 1.2.3.4. 5.6.7.8 1111 2222\r\n",
        "PROXY TCP4 localhost 5.6.7.8 1111 2222\r\n",
        "PROXY TCP4 1.2.3.4 example.com 1111 2222\r\n",
        "PROXY TCP4 ::1 5.6.7.8 1111 2222\r\n",
        "PROXY TCP6 1.2.3.4 ::1 1111 2222\r\n",
        "PROXY TCP6 ::1 localhost 1111 2222\r\n",
        "PROXY TCP6 fe80::1%eth0 ::1 1111 2222\r\n",
        "PROXY TCP6 [::1] ::1 1111 2222\r\n",
        "PROXY TCP4 1.2.3.4\t5.6.7.8 1111 2222\r\n",
      })
  void feed_v1Malformed_throws(String header) {
    byte[] stream = concat(bytes(header), FIRST_LINE);
    for (boolean optional : new boolean[] {false, true}) {
      ProxyHeader decoder = new ProxyHeader(optional, MAX);
      ByteBuffer src = ByteBuffer.wrap(stream);
      assertThatThrownBy(() -> decoder.feed(src))
          .isInstanceOf(ProxyHeaderException.class)
          .hasMessageStartingWith("PROXY v1 header: ");
      assertThat(src.position()).isEqualTo(header.length());
    }
  }

  @Test
  void feed_v1BadField_namesTheFieldAndShowsIt() {
    assertThrows(
        bytes("PROXY TCP4 1.2.3 5.6.7.8 1111 2222\r\n"),
        "PROXY v1 header: bad source address \"1.2.3\" (expected: an IPv4 literal)");
    assertThrows(
        bytes("PROXY TCP6 ::1 1.2.3.4 1111 2222\r\n"),
        "PROXY v1 header: bad destination address \"1.2.3.4\" (expected: an IPv6 literal)");
    assertThrows(
        bytes("PROXY TCP4 1.2.3.4 5.6.7.8 1111 65536\r\n"),
        "PROXY v1 header: bad destination port \"65536\" (expected: 0..65535 in decimal, no"
            + " leading zeros)");
    assertThrows(
        bytes("PROXY TCP9 1.2.3.4\r\n"),
        "PROXY v1 header: bad protocol \"TCP9\" (expected: TCP4, TCP6 or UNKNOWN)");
    assertThrows(
        bytes("PROXY TCP4 1.2.3.4 5.6.7.8\r\n"),
        "PROXY v1 header: no source port: \"PROXY TCP4 1.2.3.4 5.6.7.8\\r\\n\"");
    assertThrows(bytes("PROXY UNKNOWN\n"), "PROXY v1 header: LF without CR: \"PROXY UNKNOWN\\n\"");
  }

  @Test
  void feed_v1PortsAtTheLimits_areAccepted() throws Exception {
    ProxyHeader header = decodeEverySplit(bytes("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n"));
    assertThat(header.source()).isEqualTo(socketAddress("0.0.0.0", 0));
    assertThat(header.destination()).isEqualTo(socketAddress("255.255.255.255", 65535));
  }

  // ---- strict v2 ----

  @Test
  void feed_v2BadVersionCommandOrFamily_throws() {
    assertThrows(v2(0x11, 0x11, new byte[12]), "PROXY v2 header: version 1 (expected: 2)");
    assertThrows(v2(0x31, 0x11, new byte[12]), "PROXY v2 header: version 3 (expected: 2)");
    assertThrows(
        v2(0x22, 0x11, new byte[12]), "PROXY v2 header: command 2 (expected: 0 LOCAL or 1 PROXY)");
    String expected = " (expected: 0x00 UNSPEC, 0x11 TCP4, 0x21 TCP6 or 0x31 UNIX stream)";
    assertThrows(
        v2(0x21, 0x12, new byte[12]),
        "PROXY v2 header: address family and transport 0x12, a datagram transport" + expected);
    assertThrows(
        v2(0x21, 0x22, new byte[36]),
        "PROXY v2 header: address family and transport 0x22, a datagram transport" + expected);
    assertThrows(
        v2(0x21, 0x32, new byte[216]),
        "PROXY v2 header: address family and transport 0x32, a datagram transport" + expected);
    for (int family : new int[] {0x01, 0x10, 0x13, 0x41, 0xF1}) {
      assertThrows(
          v2(0x21, family, new byte[216]),
          "PROXY v2 header: address family and transport 0x"
              + String.format("%02x", family)
              + expected);
    }
  }

  @Test
  void feed_v2Error_consumesOnlyTheFixedPart() {
    byte[] stream = concat(v2(0x21, 0x12, new byte[12]), FIRST_LINE);
    ProxyHeader header = new ProxyHeader(true, MAX);
    ByteBuffer src = ByteBuffer.wrap(stream);
    assertThatThrownBy(() -> header.feed(src)).isInstanceOf(ProxyHeaderException.class);
    assertThat(src.position()).isEqualTo(16);
  }

  // ---- address literals ----

  @ParameterizedTest
  @ValueSource(
      strings = {
        "::",
        "::1",
        "1::",
        "1::8",
        "2001:db8::1",
        "2001:DB8:0:0:0:0:0:1",
        "0000:0000::0001",
        "1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7::",
        "::2:3:4:5:6:7:8",
        "1:2:3::6:7:8",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "::ffff:192.0.2.1",
        "64:ff9b::192.0.2.33",
        "1:2:3:4:5:6:1.2.3.4",
        "::1.2.3.4",
      })
  void ipv6_literal_parsesLikeTheJdk(String literal) throws Exception {
    byte[] text = bytes(literal);
    byte[] parsed = IpLiterals.ipv6(text, 0, text.length);
    assertThat(parsed).isNotNull();
    assertThat(InetAddress.getByAddress(parsed)).isEqualTo(InetAddress.getByName(literal));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        ":",
        ":::",
        "1:::2",
        "1::2::3",
        "1:2:3:4:5:6:7",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7:8::",
        "::1:2:3:4:5:6:7:8",
        "12345::",
        "g::",
        "1:",
        ":1",
        "1::2:",
        "::1.2.3",
        "::1.2.3.256",
        "::01.2.3.4",
        "::1.2.3.4:5",
        "1.2.3.4",
        "1:2:3:4:5:6:7:1.2.3.4",
        "fe80::1%1",
        " ::1",
        "[::1]",
      })
  void ipv6_malformed_isNull(String literal) {
    byte[] text = bytes(literal);
    assertThat(IpLiterals.ipv6(text, 0, text.length)).isNull();
  }

  @Test
  void quote_escapesNonPrintableBytes() {
    byte[] bytes = {'a', '"', '\\', '\t', 0, (byte) 0x7F, (byte) 0xFF};
    assertThat(ProxyHeader.quote(bytes, 0, bytes.length))
        .isEqualTo("\"a\\\"\\\\\\t\\x00\\x7f\\xff\"");
  }

  // ---- randomized ----

  @Test
  @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void feed_randomAndMutatedInput_decidesWithinTheHeaderAndThrowsOnlyProxyHeaderException()
      throws Exception {
    long seed = 42;
    System.out.println("ProxyHeaderTest random-input seed " + seed);
    SplittableRandom random = new SplittableRandom(seed);
    int done = 0;
    for (int i = 0; i < 30_000; i++) {
      byte[] input = randomInput(random);
      boolean optional = random.nextBoolean();
      int max = random.nextInt(4) == 0 ? 216 + random.nextInt(100) : MAX;
      Run run = run(input, optional, max, chunks(input.length, random));
      String what = "seed " + seed + " run " + i + ": " + ProxyHeader.quote(input, 0, input.length);
      checkRun(input, optional, max, run, what);
      if (run.status == Status.DONE) {
        done++;
      }
    }
    assertThat(done).as("headers accepted").isGreaterThan(1000);
  }

  private static void checkRun(byte[] input, boolean optional, int max, Run run, String what)
      throws Exception {
    int version = startsWith(input, bytes("PROXY ")) ? 1 : startsWith(input, V2_SIGNATURE) ? 2 : 0;
    int lf = indexOf(input, (byte) '\n');
    int v2End =
        input.length >= 16 ? 16 + ((input[14] & 0xFF) << 8 | input[15] & 0xFF) : Integer.MAX_VALUE;
    int headerEnd = version == 1 ? (lf < 0 ? Integer.MAX_VALUE : lf + 1) : v2End;
    assertThat(run.header.version()).as(what).isEqualTo(version);
    if (run.status == null) {
      int bound = version == 1 ? Math.min(107, headerEnd) : version == 2 ? 16 : V2_SIGNATURE.length;
      assertThat(run.consumed).as(what).isLessThanOrEqualTo(bound);
      return;
    }
    switch (run.status) {
      case DONE -> {
        assertThat(run.consumed).as(what).isEqualTo(headerEnd);
        assertThat(run.consumed).as(what).isLessThanOrEqualTo(version == 1 ? 107 : 16 + max);
        checkAddresses(input, run, what);
      }
      case NOT_PROXY -> {
        assertThat(optional).as(what).isTrue();
        assertThat(version).as(what).isZero();
        assertThat(run.delivered).as(what).isEqualTo(input);
      }
      case NEED_MORE -> {
        assertThat(run.consumed).as(what).isEqualTo(input.length);
        if (version == 0) {
          assertThat(run.delivered).as(what).isEqualTo(input);
        } else {
          assertThat(input.length).as(what).isLessThan(headerEnd);
        }
      }
    }
  }

  /** An accepted header's addresses, checked against the input bytes by other means. */
  private static void checkAddresses(byte[] input, Run run, String what) throws Exception {
    ProxyHeader header = run.header;
    InetSocketAddress source = header.source();
    InetSocketAddress destination = header.destination();
    if (source == null || destination == null) {
      assertThat(destination).as(what).isSameAs(source);
      return;
    }
    if (header.version() == 2) {
      int length = input[13] == 0x11 ? 4 : 16;
      assertThat(source.getAddress())
          .as(what)
          .isEqualTo(InetAddress.getByAddress(Arrays.copyOfRange(input, 16, 16 + length)));
      assertThat(destination.getAddress())
          .as(what)
          .isEqualTo(
              InetAddress.getByAddress(Arrays.copyOfRange(input, 16 + length, 16 + 2 * length)));
      int portsAt = 16 + 2 * length;
      assertThat(source.getPort())
          .as(what)
          .isEqualTo((input[portsAt] & 0xFF) << 8 | input[portsAt + 1] & 0xFF);
      return;
    }
    if (startsWith(input, bytes("PROXY TCP4 "))) {
      // Strict parsing: an accepted TCP4 header is the canonical text of what it decoded.
      String canonical =
          "PROXY TCP4 "
              + source.getAddress().getHostAddress()
              + " "
              + destination.getAddress().getHostAddress()
              + " "
              + source.getPort()
              + " "
              + destination.getPort()
              + "\r\n";
      assertThat(string(ByteBuffer.wrap(input, 0, run.consumed))).as(what).isEqualTo(canonical);
    }
  }

  private static byte[] randomInput(SplittableRandom random) {
    byte[] input;
    switch (random.nextInt(5)) {
      case 0 -> {
        input = new byte[random.nextInt(40)];
        random.nextBytes(input);
      }
      case 1 -> {
        byte[] signature = random.nextBoolean() ? bytes("PROXY ") : V2_SIGNATURE;
        byte[] tail = new byte[random.nextInt(300)];
        random.nextBytes(tail);
        input = concat(signature, tail);
      }
      default -> {
        input = VALID_HEADERS.get(random.nextInt(VALID_HEADERS.size()));
        for (int mutations = random.nextInt(4); mutations > 0; mutations--) {
          input = mutate(input, random);
        }
      }
    }
    return concat(input, FIRST_LINE);
  }

  private static byte[] mutate(byte[] input, SplittableRandom random) {
    if (input.length == 0) {
      return input;
    }
    int at = random.nextInt(input.length);
    byte value =
        random.nextBoolean()
            ? (byte) random.nextInt(256)
            : bytes("0123456789abcdef:. \r\n")[random.nextInt(21)];
    return switch (random.nextInt(4)) {
      case 0 -> {
        byte[] changed = input.clone();
        changed[at] = value;
        yield changed;
      }
      case 1 -> concat(Arrays.copyOf(input, at), Arrays.copyOfRange(input, at + 1, input.length));
      case 2 ->
          concat(
              Arrays.copyOf(input, at),
              new byte[] {value},
              Arrays.copyOfRange(input, at, input.length));
      default -> Arrays.copyOf(input, at);
    };
  }

  // ---- helpers ----

  /**
   * Decodes {@code header} followed by a first line, fed in two pieces split at every offset and
   * one byte at a time; each run must stop right after the header. Returns the last decoder.
   */
  private static ProxyHeader decodeEverySplit(byte[] header) throws Exception {
    byte[] stream = concat(header, FIRST_LINE);
    List<String> decoded = new ArrayList<>();
    ProxyHeader decoder = new ProxyHeader(false, MAX);
    for (int split = 0; split <= header.length; split++) {
      decoder = new ProxyHeader(false, MAX);
      ByteBuffer first = ByteBuffer.wrap(stream, 0, split);
      ByteBuffer second = ByteBuffer.wrap(stream, split, stream.length - split);
      if (split < header.length) {
        assertThat(decoder.feed(first)).as("split %d", split).isEqualTo(Status.NEED_MORE);
        assertThat(first.hasRemaining()).isFalse();
        assertThat(decoder.feed(second)).as("split %d", split).isEqualTo(Status.DONE);
      } else {
        assertThat(decoder.feed(first)).as("split %d", split).isEqualTo(Status.DONE);
        assertThat(first.hasRemaining()).isFalse();
      }
      assertThat(second.position()).as("split %d", split).isEqualTo(header.length);
      decoded.add(describe(decoder));
    }
    decoder = new ProxyHeader(false, MAX);
    for (int i = 0; i < header.length - 1; i++) {
      assertThat(decoder.feed(ByteBuffer.wrap(stream, i, 1))).isEqualTo(Status.NEED_MORE);
    }
    ByteBuffer last = ByteBuffer.wrap(stream, header.length - 1, 1 + FIRST_LINE.length);
    assertThat(decoder.feed(last)).isEqualTo(Status.DONE);
    assertThat(last.position()).isEqualTo(header.length);
    decoded.add(describe(decoder));
    assertThat(decoded).containsOnly(describe(decoder));
    return decoder;
  }

  private static String describe(ProxyHeader header) {
    return "v"
        + header.version()
        + (header.local() ? " LOCAL " : " ")
        + header.source()
        + " -> "
        + header.destination();
  }

  /** The outcome of feeding {@code input} in chunks: {@code status} null if it threw. */
  private record Run(ProxyHeader header, @Nullable Status status, int consumed, byte[] delivered) {}

  private static Run run(byte[] input, boolean optional, int max, int[] chunkEnds) {
    ProxyHeader header = new ProxyHeader(optional, max);
    int consumed = 0;
    int from = 0;
    Status status = Status.NEED_MORE;
    try {
      for (int to : chunkEnds) {
        ByteBuffer src = ByteBuffer.wrap(input, from, to - from);
        status = header.feed(src);
        consumed += src.position() - from;
        if (status != Status.NEED_MORE) {
          break;
        }
        assertThat(src.hasRemaining()).isFalse();
        from = to;
      }
    } catch (ProxyHeaderException e) {
      assertThat(e).hasMessageNotContaining("\n");
      return new Run(header, null, consumed, new byte[0]);
    }
    ByteArrayOutputStream delivered = new ByteArrayOutputStream();
    if (header.version() == 0) {
      ByteBuffer held = header.heldBytes();
      delivered.write(held.array(), held.position(), held.remaining());
      delivered.write(input, consumed, input.length - consumed);
    }
    return new Run(header, status, consumed, delivered.toByteArray());
  }

  /** Random chunk ends for a stream of {@code length} bytes, the last one {@code length}. */
  private static int[] chunks(int length, SplittableRandom random) {
    List<Integer> ends = new ArrayList<>();
    int at = 0;
    while (at < length) {
      at = Math.min(length, at + (random.nextInt(3) == 0 ? 1 : random.nextInt(length + 1)));
      ends.add(at);
    }
    ends.add(length);
    return ends.stream().mapToInt(Integer::intValue).toArray();
  }

  private static void assertThrows(byte[] stream, String message) {
    assertThatThrownBy(() -> new ProxyHeader(false, MAX).feed(ByteBuffer.wrap(stream)))
        .isInstanceOf(ProxyHeaderException.class)
        .hasMessage(message);
  }

  private static byte[] v1Unknown(int length) {
    byte[] header = new byte[length];
    Arrays.fill(header, (byte) 'x');
    byte[] start = bytes("PROXY UNKNOWN ");
    System.arraycopy(start, 0, header, 0, start.length);
    header[length - 2] = '\r';
    header[length - 1] = '\n';
    return header;
  }

  private static byte[] v2(int versionCommand, int family, byte[] body) {
    byte[] fixed = {
      (byte) versionCommand, (byte) family, (byte) (body.length >>> 8), (byte) body.length
    };
    return concat(V2_SIGNATURE, fixed, body);
  }

  private static byte[] tlv(int type, byte[] value) {
    return concat(
        new byte[] {(byte) type, (byte) (value.length >>> 8), (byte) value.length}, value);
  }

  private static byte[] address(String literal) {
    try {
      return InetAddress.getByName(literal).getAddress();
    } catch (java.net.UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  private static InetSocketAddress socketAddress(String literal, int port) throws Exception {
    return new InetSocketAddress(InetAddress.getByName(literal), port);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(ISO_8859_1);
  }

  private static String string(ByteBuffer buffer) {
    return ISO_8859_1.decode(buffer.duplicate()).toString();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  private static boolean startsWith(byte[] input, byte[] prefix) {
    return input.length >= prefix.length
        && Arrays.equals(input, 0, prefix.length, prefix, 0, prefix.length);
  }

  private static int indexOf(byte[] input, byte b) {
    for (int i = 0; i < input.length; i++) {
      if (input[i] == b) {
        return i;
      }
    }
    return -1;
  }
}
