package dev.lineserver.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lineserver.RefusalReason;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What admitting takes and releasing gives back, per path, with the PROXY protocol on and off. */
final class AdmissionTest {
  private static final InetSocketAddress PROXY = new InetSocketAddress("127.0.0.1", 50000);
  private static final InetSocketAddress CLIENT = new InetSocketAddress("192.0.2.10", 40001);

  private static Admission admission(boolean proxyProtocol) {
    return new Admission(100, 1, proxyProtocol, new AddressRanges(List.of(), List.of()));
  }

  private static Peer peer(long id) {
    return new Peer(id, PROXY, new InetSocketAddress("127.0.0.1", 9000), new Reports());
  }

  @Test
  void admit_withoutProxyProtocol_countsTheSocketsPeer_andReleaseGivesItBack() {
    Admission admission = admission(false);
    Peer first = peer(1);
    assertThat(admission.admit(first)).isNull();
    assertThat(admission.admit(peer(2))).isEqualTo(RefusalReason.MAX_CONNECTIONS_PER_ADDRESS);
    assertThat(admission.open()).isEqualTo(1);

    admission.release(first);
    assertThat(admission.open()).isZero();
    assertThat(admission.addressesCounted()).isZero();
  }

  @Test
  void admit_withProxyProtocol_countsNoAddressUntilTheHeader_thenTheClient() {
    Admission admission = admission(true);
    Peer first = peer(1);
    Peer second = peer(2);
    Peer third = peer(3);
    assertThat(admission.admit(first)).isNull();
    assertThat(admission.admit(second)).isNull(); // the proxy's address is not limited
    assertThat(admission.admit(third)).isNull();
    assertThat(admission.addressesCounted()).isZero();

    first.proxied(CLIENT);
    second.proxied(CLIENT);
    assertThat(admission.admitAfterHeader(first)).isNull();
    assertThat(admission.admitAfterHeader(second))
        .isEqualTo(RefusalReason.MAX_CONNECTIONS_PER_ADDRESS);
    assertThat(first.countedAddress()).isEqualTo(CLIENT.getAddress());
    assertThat(second.countedAddress()).isNull();
    // A header naming no client (LOCAL, UNKNOWN): the socket's peer, the proxy, is counted.
    assertThat(admission.admitAfterHeader(third)).isNull();
    assertThat(admission.addressesCounted()).isEqualTo(2);

    admission.release(second); // refused after its header: counted in all only
    admission.release(first);
    admission.release(third);
    assertThat(admission.open()).isZero();
    assertThat(admission.addressesCounted()).isZero();
  }

  @Test
  void release_ofAConnectionThatFailedBeforeItsHeader_givesBackTheTotalOnly() {
    Admission admission = admission(true);
    Peer failed = peer(1);
    assertThat(admission.admit(failed)).isNull();
    Peer counted = peer(2);
    assertThat(admission.admit(counted)).isNull();
    counted.proxied(CLIENT);
    assertThat(admission.admitAfterHeader(counted)).isNull();

    admission.release(failed);
    assertThat(admission.open()).isEqualTo(1);
    assertThat(admission.addressesCounted()).isEqualTo(1);
    admission.release(counted);
    assertThat(admission.addressesCounted()).isZero();
  }
}
