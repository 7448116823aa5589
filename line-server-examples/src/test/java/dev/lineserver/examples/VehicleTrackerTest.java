package dev.lineserver.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import dev.lineserver.CloseReason;
import dev.lineserver.ConnectionInfo;
import dev.lineserver.LineServerListener;
import dev.lineserver.SendResult;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

final class VehicleTrackerTest {
  private final TestConnection connection = new TestConnection(1);
  private final VehicleTracker tracker = new VehicleTracker();

  @Test
  void accept_validLines_keepsLatestPerVehicleAndAcksEach() {
    tracker.accept(connection, "a,1000,1,1,10,90");
    tracker.accept(connection, "b,1000,2,2,20,180");
    tracker.accept(connection, "a,2000,1.5,1.5,30,90");

    assertThat(tracker.vehicles()).isEqualTo(2);
    assertThat(tracker.lines()).isEqualTo(3);
    assertThat(tracker.latest("a")).isEqualTo(new Position("a", 2000, 1.5, 1.5, 30, 90));
    assertThat(tracker.latest("c")).isNull();
    assertThat(connection.sent).containsExactly("ACK a 1000", "ACK b 1000", "ACK a 2000");
  }

  @Test
  void positions_moreVehiclesThanMax_capsTheCopy() {
    for (int i = 0; i < 5; i++) {
      tracker.accept(connection, "v" + i + ",1000,1,1,10,90");
    }
    tracker.accept(connection, "v0,2000,2,2,10,90");

    List<Position> all = tracker.positions(10);
    assertThat(all).hasSize(5).contains(new Position("v0", 2000, 2, 2, 10, 90));
    assertThat(tracker.positions(3)).hasSize(3).isSubsetOf(all);
    assertThat(tracker.positions(0)).isEmpty();
    assertThatIllegalArgumentException()
        .isThrownBy(() -> tracker.positions(-1))
        .withMessage("max: -1 (expected: >= 0)");
  }

  @Test
  void positions_copy_unchangedByLaterLines() {
    tracker.accept(connection, "a,1000,1,1,10,90");
    List<Position> before = tracker.positions(10);

    tracker.accept(connection, "a,2000,2,2,10,90");
    tracker.accept(connection, "b,2000,2,2,10,90");

    assertThat(before).containsExactly(new Position("a", 1000, 1, 1, 10, 90));
  }

  @Test
  void accept_olderPosition_keepsNewerAndAcksBoth() {
    tracker.accept(connection, "a,2000,1,1,10,90");
    tracker.accept(connection, "a,1000,5,5,50,0");
    tracker.accept(connection, "a,2000,6,6,60,0");

    assertThat(tracker.latest("a")).isEqualTo(new Position("a", 2000, 1, 1, 10, 90));
    assertThat(connection.sent).containsExactly("ACK a 2000", "ACK a 1000", "ACK a 2000");
  }

  @Test
  void accept_malformedLine_answersErrThrowsAndCountsTheLine() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> tracker.accept(connection, "a,2000,95,1,10,90"))
        .withMessageContaining("lat: 95");

    assertThat(tracker.lines()).isEqualTo(1);
    assertThat(tracker.vehicles()).isZero();
    assertThat(tracker.rejected()).as("the listener counts rejects, not the sink").isZero();
    assertThat(tracker.connectionOf("a")).isNull();
    assertThat(connection.sent).containsExactly("ERR lat: 95 (expected: -90..90)");
  }

  @Test
  void accept_replyRefused_countsItAndKeepsThePosition() {
    connection.result = SendResult.FULL;

    tracker.accept(connection, "a,1000,1,1,10,90");

    assertThat(tracker.repliesRefused()).isEqualTo(1);
    assertThat(tracker.vehicles()).isEqualTo(1);
  }

  @Test
  void accept_vehicleMovesToAnotherConnection_routesToTheNewOne() {
    TestConnection other = new TestConnection(2);

    tracker.accept(connection, "a,1000,1,1,10,90");
    assertThat(tracker.connectionOf("a")).isEqualTo(1L);
    tracker.accept(other, "a,2000,1,1,10,90");

    assertThat(tracker.connectionOf("a")).isEqualTo(2L);
  }

  @Test
  void listener_connectionClosed_forgetsItsRoutesOnly() {
    TestConnection other = new TestConnection(2);
    tracker.accept(connection, "a,1000,1,1,10,90");
    tracker.accept(connection, "b,1000,1,1,10,90");
    tracker.accept(other, "c,1000,1,1,10,90");
    tracker.accept(other, "b,2000,1,1,10,90");

    tracker.listener().connectionClosed(connection, CloseReason.PEER_EOF);

    assertThat(tracker.connectionOf("a")).isNull();
    assertThat(tracker.connectionOf("b")).as("moved before the close").isEqualTo(2L);
    assertThat(tracker.connectionOf("c")).isEqualTo(2L);
  }

  @Test
  void listener_sinkFailedAndLineTooLong_countRejectedAndTooLongAnswersErr() {
    LineServerListener listener = tracker.listener();

    listener.sinkFailed(connection, "bad", new IllegalArgumentException("lat: 95"));
    listener.lineTooLong(connection, 5000);

    assertThat(tracker.rejected()).isEqualTo(2);
    assertThat(connection.sent).containsExactly("ERR line too long: 5000 bytes");
  }

  @Test
  void listener_openedAndClosed_countsOpenConnections() {
    LineServerListener listener = tracker.listener();

    listener.connectionOpened(connection);
    listener.connectionOpened(connection);
    listener.connectionClosed(connection, CloseReason.PEER_EOF);

    assertThat(tracker.openConnections()).isEqualTo(1);
  }

  @Test
  void reason_longMessageWithControlCharacters_oneLineOfAtMostTheLimit() {
    String reason = VehicleTracker.reason("fields: 1 in \"a\rb\u0000" + "x".repeat(500) + "\"");

    assertThat(reason)
        .hasSize(VehicleTracker.MAX_REASON_LENGTH)
        .startsWith("fields: 1 in \"a b ")
        .endsWith("...")
        .doesNotContainPattern("\\p{Cntrl}");
    assertThat(VehicleTracker.reason("lat: 95")).isEqualTo("lat: 95");
  }

  /** A connection that records what is sent to it and answers {@link #result}. */
  private static final class TestConnection implements ConnectionInfo {
    private final long id;
    final List<String> sent = new ArrayList<>();
    SendResult result = SendResult.QUEUED;

    TestConnection(long id) {
      this.id = id;
    }

    @Override
    public long id() {
      return id;
    }

    @Override
    public SocketAddress remoteAddress() {
      return new InetSocketAddress("127.0.0.1", 50000);
    }

    @Override
    public SocketAddress localAddress() {
      return new InetSocketAddress("127.0.0.1", 9000);
    }

    @Override
    public SendResult sendLine(CharSequence text) {
      sent.add(text.toString());
      return result;
    }
  }
}
