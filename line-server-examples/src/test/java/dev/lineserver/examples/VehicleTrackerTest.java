package dev.lineserver.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import dev.lineserver.CloseReason;
import dev.lineserver.ConnectionInfo;
import dev.lineserver.LineServerListener;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import org.junit.jupiter.api.Test;

final class VehicleTrackerTest {
  private static final ConnectionInfo CONNECTION =
      new TestConnection(
          1, new InetSocketAddress("127.0.0.1", 50000), new InetSocketAddress("127.0.0.1", 9000));

  private final VehicleTracker tracker = new VehicleTracker();

  @Test
  void accept_validLines_keepsLatestPerVehicle() {
    tracker.accept("a,1000,1,1,10,90");
    tracker.accept("b,1000,2,2,20,180");
    tracker.accept("a,2000,1.5,1.5,30,90");

    assertThat(tracker.vehicles()).isEqualTo(2);
    assertThat(tracker.lines()).isEqualTo(3);
    assertThat(tracker.latest("a")).isEqualTo(new Position("a", 2000, 1.5, 1.5, 30, 90));
    assertThat(tracker.latest("c")).isNull();
  }

  @Test
  void accept_olderPosition_keepsNewer() {
    tracker.accept("a,2000,1,1,10,90");
    tracker.accept("a,1000,5,5,50,0");
    tracker.accept("a,2000,6,6,60,0");

    assertThat(tracker.latest("a")).isEqualTo(new Position("a", 2000, 1, 1, 10, 90));
  }

  @Test
  void accept_malformedLine_throwsAndCountsTheLine() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> tracker.accept("a,2000,95,1,10,90"))
        .withMessageContaining("lat: 95");

    assertThat(tracker.lines()).isEqualTo(1);
    assertThat(tracker.vehicles()).isZero();
    assertThat(tracker.rejected()).as("the listener counts rejects, not the sink").isZero();
  }

  @Test
  void listener_sinkFailedAndLineTooLong_countRejected() {
    LineServerListener listener = tracker.listener();

    listener.sinkFailed(CONNECTION, "bad", new IllegalArgumentException("lat: 95"));
    listener.lineTooLong(CONNECTION, 5000);

    assertThat(tracker.rejected()).isEqualTo(2);
  }

  @Test
  void listener_openedAndClosed_countsOpenConnections() {
    LineServerListener listener = tracker.listener();

    listener.connectionOpened(CONNECTION);
    listener.connectionOpened(CONNECTION);
    listener.connectionClosed(CONNECTION, CloseReason.PEER_EOF);

    assertThat(tracker.openConnections()).isEqualTo(1);
  }

  private record TestConnection(long id, SocketAddress remoteAddress, SocketAddress localAddress)
      implements ConnectionInfo {}
}
