package dev.lineserver.internal;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * Decodes the PROXY protocol header (v1 text or v2 binary) that opens one connection's stream, fed
 * in pieces by that connection's I/O thread. Owns at most 107 bytes: a signature prefix, a v1 line,
 * or v2's fixed part and IPv4/IPv6 addresses; v2 TLVs and other address blocks are counted, never
 * kept. Never consumes a byte past the header. While {@code version == 0} the held bytes are
 * exactly the stream's first bytes, all of them a prefix of a signature.
 */
final class ProxyHeader {

  enum Status {
    /** Every byte of {@code src} was consumed; the header is not complete yet. */
    NEED_MORE,
    /** The header was consumed; {@code src} is positioned at the stream's first data byte. */
    DONE,
    /** Optional mode: the stream does not begin with a PROXY header; see {@link #heldBytes}. */
    NOT_PROXY
  }

  /** A cap on v2's length field that leaves room for the TLVs proxies commonly send. */
  static final int DEFAULT_MAX_V2_LENGTH = 4096;

  private static final byte[] V1_SIGNATURE = {'P', 'R', 'O', 'X', 'Y', ' '};
  private static final byte[] V2_SIGNATURE = {
    '\r', '\n', '\r', '\n', 0, '\r', '\n', 'Q', 'U', 'I', 'T', '\n'
  };
  private static final int V1_MAX_LENGTH = 107;
  private static final int V2_FIXED_LENGTH = 16;
  private static final int UNIX_ADDRESSES_LENGTH = 216;
  private static final int MAX_V2_LENGTH = 0xFFFF;
  private static final int UNSPEC = 0x00;
  private static final int TCP4 = 0x11;
  private static final int TCP6 = 0x21;
  private static final int UNIX_STREAM = 0x31;
  private static final int PREVIEW_LENGTH = 32;

  private final boolean optional;
  private final int maxV2Length;

  private final byte[] head = new byte[V1_MAX_LENGTH];
  private int headLength;
  private int version;
  private int v2HeadLength = V2_FIXED_LENGTH;
  private int v2SkipLength;
  private boolean finished;

  private boolean local;
  private @Nullable InetSocketAddress source;
  private @Nullable InetSocketAddress destination;

  ProxyHeader(boolean optional, int maxV2Length) {
    if (maxV2Length < UNIX_ADDRESSES_LENGTH || maxV2Length > MAX_V2_LENGTH) {
      throw new IllegalArgumentException(
          "maxV2Length: "
              + maxV2Length
              + " (expected: "
              + UNIX_ADDRESSES_LENGTH
              + ".."
              + MAX_V2_LENGTH
              + ")");
    }
    this.optional = optional;
    this.maxV2Length = maxV2Length;
  }

  /**
   * Consumes header bytes from {@code src} (in read mode), never a byte past the end of the header.
   * On {@link Status#NOT_PROXY} {@code src} is left as it was; the bytes earlier calls consumed are
   * in {@link #heldBytes}. Not to be called again once it returned DONE or NOT_PROXY, or threw.
   *
   * @throws ProxyHeaderException if the bytes seen cannot begin a valid header (in required mode,
   *     also if they cannot begin a signature)
   */
  Status feed(ByteBuffer src) throws ProxyHeaderException {
    if (finished) {
      throw new IllegalStateException("feed: the PROXY header was already decided");
    }
    finished = true; // stays so if decoding throws
    Status status = version == 0 ? signature(src) : version == 1 ? v1(src) : v2(src);
    finished = status != Status.NEED_MORE;
    return status;
  }

  /**
   * While no signature is recognized ({@link #version} 0, as after {@link Status#NOT_PROXY}): the
   * bytes consumed so far, in read mode. They are the stream's first data bytes, to be delivered
   * before the rest of {@code src}, also if the stream ends before the decoder decided.
   */
  ByteBuffer heldBytes() {
    if (version != 0) {
      throw new IllegalStateException(
          "heldBytes: the stream began with a PROXY v" + version + " header");
    }
    return ByteBuffer.wrap(head, 0, headLength);
  }

  /**
   * After DONE: the original client's address, or null when the header carries none (v1 UNKNOWN; v2
   * LOCAL, UNSPEC or AF_UNIX).
   */
  @Nullable InetSocketAddress source() {
    return source;
  }

  /** After DONE: the address the client connected to; null when {@link #source} is. */
  @Nullable InetSocketAddress destination() {
    return destination;
  }

  /** 1 or 2 once a signature is recognized, else 0. */
  int version() {
    return version;
  }

  /**
   * Optional mode and no signature recognized yet: if the stream stops here (a deadline, its end),
   * it is a plain one and {@link #heldBytes} are its first data bytes.
   */
  boolean mayBePlain() {
    return optional && version == 0;
  }

  /** After DONE: a v2 LOCAL header, sent by the proxy itself (a health check). */
  boolean local() {
    return local;
  }

  private Status signature(ByteBuffer src) throws ProxyHeaderException {
    int start = src.position();
    int heldBefore = headLength;
    while (src.hasRemaining()) {
      byte b = src.get(src.position());
      byte[] signature = (headLength == 0 ? b : head[0]) == 'P' ? V1_SIGNATURE : V2_SIGNATURE;
      if (b != signature[headLength]) {
        if (!optional) {
          throw new ProxyHeaderException("not a PROXY protocol header: " + quotePreview(src));
        }
        src.position(start);
        headLength = heldBefore;
        return Status.NOT_PROXY;
      }
      head[headLength++] = src.get();
      if (headLength == signature.length) {
        version = head[0] == 'P' ? 1 : 2;
        return version == 1 ? v1(src) : v2(src);
      }
    }
    return Status.NEED_MORE;
  }

  private Status v1(ByteBuffer src) throws ProxyHeaderException {
    while (src.hasRemaining()) {
      byte b = src.get();
      head[headLength++] = b;
      if (b == '\n') {
        parseV1();
        return Status.DONE;
      }
      if (headLength == V1_MAX_LENGTH) {
        throw v1Error("no LF within " + V1_MAX_LENGTH + " bytes");
      }
    }
    return Status.NEED_MORE;
  }

  private Status v2(ByteBuffer src) throws ProxyHeaderException {
    if (headLength < V2_FIXED_LENGTH) {
      take(src, V2_FIXED_LENGTH);
      if (headLength < V2_FIXED_LENGTH) {
        return Status.NEED_MORE;
      }
      checkV2Fixed();
    }
    take(src, v2HeadLength);
    int skip = Math.min(src.remaining(), v2SkipLength);
    src.position(src.position() + skip);
    v2SkipLength -= skip;
    if (headLength < v2HeadLength || v2SkipLength > 0) {
      return Status.NEED_MORE;
    }
    if (v2HeadLength > V2_FIXED_LENGTH) {
      boolean ipv4 = (head[13] & 0xFF) == TCP4;
      int addressLength = ipv4 ? 4 : 16;
      int portsAt = V2_FIXED_LENGTH + 2 * addressLength;
      source = socketAddress(v2Address(V2_FIXED_LENGTH, addressLength), v2Port(portsAt));
      destination =
          socketAddress(
              v2Address(V2_FIXED_LENGTH + addressLength, addressLength), v2Port(portsAt + 2));
    }
    return Status.DONE;
  }

  private void take(ByteBuffer src, int upTo) {
    int n = Math.min(src.remaining(), upTo - headLength);
    src.get(head, headLength, n);
    headLength += n;
  }

  /** Checks v2's version, command, family and length; sets what the body holds for us. */
  private void checkV2Fixed() throws ProxyHeaderException {
    int versionCommand = head[12] & 0xFF;
    if (versionCommand >>> 4 != 2) {
      throw new ProxyHeaderException(
          "PROXY v2 header: version " + (versionCommand >>> 4) + " (expected: 2)");
    }
    int command = versionCommand & 0x0F;
    if (command > 1) {
      throw new ProxyHeaderException(
          "PROXY v2 header: command " + command + " (expected: 0 LOCAL or 1 PROXY)");
    }
    local = command == 0;
    int family = head[13] & 0xFF;
    int length = ((head[14] & 0xFF) << 8) | (head[15] & 0xFF);
    int addressesLength = local ? 0 : addressesLength(family);
    if (length < addressesLength || length > maxV2Length) {
      throw new ProxyHeaderException(
          "PROXY v2 header: length "
              + length
              + " (expected: "
              + addressesLength
              + ".."
              + maxV2Length
              + ")");
    }
    int kept = !local && (family == TCP4 || family == TCP6) ? addressesLength : 0;
    v2HeadLength = V2_FIXED_LENGTH + kept;
    v2SkipLength = length - kept;
  }

  private static int addressesLength(int family) throws ProxyHeaderException {
    return switch (family) {
      case UNSPEC -> 0;
      case TCP4 -> 12;
      case TCP6 -> 36;
      case UNIX_STREAM -> UNIX_ADDRESSES_LENGTH;
      default ->
          throw new ProxyHeaderException(
              "PROXY v2 header: address family and transport 0x"
                  + hexByte(family)
                  + ((family & 0x0F) == 2 ? ", a datagram transport" : "")
                  + " (expected: 0x00 UNSPEC, 0x11 TCP4, 0x21 TCP6 or 0x31 UNIX stream)");
    };
  }

  private byte[] v2Address(int at, int length) {
    return Arrays.copyOfRange(head, at, at + length);
  }

  private int v2Port(int at) {
    return ((head[at] & 0xFF) << 8) | (head[at + 1] & 0xFF);
  }

  /** Parses the complete v1 line held in {@code head}, which ends with LF. */
  private void parseV1() throws ProxyHeaderException {
    int end = headLength - 2;
    if (head[end] != '\r') {
      throw v1Error("LF without CR");
    }
    int protocolAt = V1_SIGNATURE.length;
    int protocolEnd = fieldEnd(protocolAt, end);
    if (fieldIs("UNKNOWN", protocolAt, protocolEnd)) {
      return;
    }
    boolean ipv6 = fieldIs("TCP6", protocolAt, protocolEnd);
    if (!ipv6 && !fieldIs("TCP4", protocolAt, protocolEnd)) {
      throw v1Bad("protocol", protocolAt, protocolEnd, "TCP4, TCP6 or UNKNOWN");
    }
    int sourceAt = nextField(protocolEnd, end, "source address");
    int sourceEnd = fieldEnd(sourceAt, end);
    int destinationAt = nextField(sourceEnd, end, "destination address");
    int destinationEnd = fieldEnd(destinationAt, end);
    int sourcePortAt = nextField(destinationEnd, end, "source port");
    int sourcePortEnd = fieldEnd(sourcePortAt, end);
    int destinationPortAt = nextField(sourcePortEnd, end, "destination port");
    int destinationPortEnd = fieldEnd(destinationPortAt, end);
    if (destinationPortEnd != end) {
      throw v1Error("bytes after the destination port");
    }
    source = v1SocketAddress(ipv6, "source", sourceAt, sourceEnd, sourcePortAt, sourcePortEnd);
    destination =
        v1SocketAddress(
            ipv6,
            "destination",
            destinationAt,
            destinationEnd,
            destinationPortAt,
            destinationPortEnd);
  }

  private InetSocketAddress v1SocketAddress(
      boolean ipv6, String role, int addressAt, int addressEnd, int portAt, int portEnd)
      throws ProxyHeaderException {
    byte[] address =
        ipv6
            ? IpLiterals.ipv6(head, addressAt, addressEnd)
            : IpLiterals.ipv4(head, addressAt, addressEnd);
    if (address == null) {
      throw v1Bad(
          role + " address", addressAt, addressEnd, ipv6 ? "an IPv6 literal" : "an IPv4 literal");
    }
    int port = IpLiterals.decimal(head, portAt, portEnd, 0xFFFF);
    if (port < 0) {
      throw v1Bad(role + " port", portAt, portEnd, "0..65535 in decimal, no leading zeros");
    }
    return socketAddress(address, port);
  }

  private int fieldEnd(int from, int end) {
    int i = from;
    while (i < end && head[i] != ' ') {
      i++;
    }
    return i;
  }

  private int nextField(int previousEnd, int end, String field) throws ProxyHeaderException {
    if (previousEnd == end) {
      throw v1Error("no " + field);
    }
    return previousEnd + 1;
  }

  private boolean fieldIs(String expected, int from, int to) {
    if (to - from != expected.length()) {
      return false;
    }
    for (int i = from; i < to; i++) {
      if (head[i] != expected.charAt(i - from)) {
        return false;
      }
    }
    return true;
  }

  private ProxyHeaderException v1Error(String what) {
    return new ProxyHeaderException("PROXY v1 header: " + what + ": " + quote(head, 0, headLength));
  }

  private ProxyHeaderException v1Bad(String field, int from, int to, String expected) {
    return new ProxyHeaderException(
        "PROXY v1 header: bad "
            + field
            + " "
            + quote(head, from, to)
            + " (expected: "
            + expected
            + ")");
  }

  /** The bytes held and those that follow in {@code src}, which is not advanced. */
  private String quotePreview(ByteBuffer src) {
    int length = Math.min(headLength + src.remaining(), PREVIEW_LENGTH + 1);
    byte[] seen = Arrays.copyOf(head, length);
    src.get(src.position(), seen, headLength, length - headLength);
    return quote(seen, 0, length);
  }

  /** No name lookup: the address is built from its bytes. */
  private static InetSocketAddress socketAddress(byte[] address, int port) {
    try {
      return new InetSocketAddress(InetAddress.getByAddress(address), port);
    } catch (UnknownHostException e) {
      throw new AssertionError("an address of 4 or 16 bytes, not " + address.length, e);
    }
  }

  /**
   * {@code bytes[from, to)} in quotes, at most 32 of them, then "..." if more; {@code \r}, {@code
   * \n}, {@code \t}, {@code \"}, {@code \\} and {@code \xNN} escapes.
   */
  static String quote(byte[] bytes, int from, int to) {
    int end = Math.min(to, from + PREVIEW_LENGTH);
    StringBuilder s = new StringBuilder(2 + 4 * (end - from) + 3).append('"');
    for (int i = from; i < end; i++) {
      int b = bytes[i] & 0xFF;
      switch (b) {
        case '\r' -> s.append("\\r");
        case '\n' -> s.append("\\n");
        case '\t' -> s.append("\\t");
        case '"', '\\' -> s.append('\\').append((char) b);
        default -> {
          if (b >= 0x20 && b < 0x7F) {
            s.append((char) b);
          } else {
            s.append("\\x").append(hexByte(b));
          }
        }
      }
    }
    s.append('"');
    if (to > end) {
      s.append("...");
    }
    return s.toString();
  }

  private static String hexByte(int b) {
    return "" + Character.forDigit(b >>> 4, 16) + Character.forDigit(b & 0x0F, 16);
  }
}
