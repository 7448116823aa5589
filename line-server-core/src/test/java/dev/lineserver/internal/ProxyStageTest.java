package dev.lineserver.internal;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lineserver.CloseReason;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

final class ProxyStageTest {
  private static final String V1 = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n";

  private final StageProbe probe = new StageProbe();

  private ProxyStage stage(boolean optional, AddressRanges ranges) {
    Admission admission = new Admission(Integer.MAX_VALUE, Integer.MAX_VALUE, true, ranges);
    return new ProxyStage(probe.next, probe, admission, optional);
  }

  private static ByteBuffer bytes(String text) {
    return ByteBuffer.wrap(text.getBytes(ISO_8859_1));
  }

  @Test
  void read_headerThenLines_namesTheClientAndHandsOnTheRest() {
    ProxyStage stage = stage(false, AddressRanges.ALL);
    assertThat(stage.handshake()).isEqualTo("PROXY protocol header");

    stage.read(bytes(V1.substring(0, 10)));
    assertThat(probe.events).isEmpty();
    assertThat(stage.holdsPartialInput()).isTrue();
    stage.read(bytes(V1.substring(10) + "a\nb"));
    stage.read(bytes("c\n"));

    assertThat(probe.events).containsExactly("handshakeDone");
    assertThat(probe.peer.remoteAddress()).isEqualTo(new InetSocketAddress("192.0.2.1", 56324));
    assertThat(probe.next.text()).isEqualTo("a\nbc\n");
    assertThat(stage.handshake()).isNull();
  }

  @Test
  void read_notAHeader_failsTheHandshake() {
    ProxyStage stage = stage(false, AddressRanges.ALL);
    stage.read(bytes("GET / HTTP/1.1\r\n"));
    assertThat(probe.events).containsExactly("handshakeFailed");
    assertThat(probe.handshakeFailure).isInstanceOf(ProxyHeaderException.class);
    assertThat(probe.next.text()).isEmpty();
  }

  @Test
  void read_optionalAndNoSignature_theHeldBytesAreLineDataFirst() {
    ProxyStage stage = stage(true, AddressRanges.ALL);
    stage.read(bytes("PRO")); // a prefix of the signature: held
    assertThat(probe.next.text()).isEmpty();
    stage.read(bytes("MPT\n"));
    assertThat(probe.events).containsExactly("handshakeDone");
    assertThat(probe.next.text()).isEqualTo("PROMPT\n");
    assertThat(probe.peer.remoteAddress()).isEqualTo(StageProbe.REMOTE);
  }

  @Test
  void read_clientOutsideTheRanges_refused() {
    AddressRanges ranges =
        new AddressRanges(List.of(AddressRanges.parse("allow", "10.0.0.0/8")), List.of());
    ProxyStage stage = stage(false, ranges);
    stage.read(bytes(V1 + "a\n"));
    assertThat(probe.events).containsExactly("refuse " + CloseReason.NOT_ALLOWED);
    assertThat(probe.next.text()).isEmpty();
  }

  @Test
  void endOfStream_nothingSent_justEnds() {
    ProxyStage stage = stage(false, AddressRanges.ALL);
    stage.endOfStream();
    assertThat(probe.events).isEmpty();
  }

  @Test
  void endOfStream_insideTheHeader_failsTheHandshake() {
    ProxyStage stage = stage(false, AddressRanges.ALL);
    stage.read(bytes("PROXY TCP4 192"));
    stage.endOfStream();
    assertThat(probe.events).containsExactly("handshakeFailed");
    assertThat(probe.handshakeFailure).hasMessageContaining("ended inside its PROXY header");
  }

  @Test
  void endOfStream_optionalBeforeASignature_servesTheBytesAsPlainThenEnds() {
    ProxyStage stage = stage(true, AddressRanges.ALL);
    stage.read(bytes("PR"));
    stage.endOfStream();
    assertThat(probe.events).containsExactly("handshakeDone", "next endOfStream");
    assertThat(probe.next.text()).isEqualTo("PR");
  }

  @Test
  void endOfStream_afterTheHeader_reachesTheNextStage() {
    ProxyStage stage = stage(false, AddressRanges.ALL);
    stage.read(bytes(V1));
    stage.endOfStream();
    assertThat(probe.events).containsExactly("handshakeDone", "next endOfStream");
  }

  @Test
  void quiet_optionalBeforeASignature_plain() {
    ProxyStage stage = stage(true, AddressRanges.ALL);
    stage.read(bytes("P"));
    stage.quiet();
    assertThat(probe.events).containsExactly("handshakeDone");
    assertThat(probe.next.text()).isEqualTo("P");
    assertThat(stage.handshake()).isNull();
  }

  @Test
  void quiet_requiredHeader_keepsWaiting() {
    ProxyStage stage = stage(false, AddressRanges.ALL);
    stage.read(bytes("P"));
    stage.quiet();
    assertThat(probe.events).isEmpty();
    assertThat(stage.handshake()).isEqualTo("PROXY protocol header");
  }

  @Test
  void closed_reachesTheNextStage() {
    stage(false, AddressRanges.ALL).closed();
    assertThat(probe.events).containsExactly("next closed");
  }
}
