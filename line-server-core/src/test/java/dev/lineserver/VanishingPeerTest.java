package dev.lineserver;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lineserver.testing.ChildJvm;
import dev.lineserver.testing.KeepAliveServer;
import dev.lineserver.testing.NetnsPair;
import dev.lineserver.testing.Peers;
import dev.lineserver.testing.Threads;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A peer that really vanishes: the server runs in one network namespace, a socat client in another,
 * and after a full line the client's end of the veth pair between them goes down, so no FIN, no
 * RST, no answer ever comes. Only TCP keepalive can tell the server.
 */
final class VanishingPeerTest {
  private static final int IDLE_SECONDS = 1;
  private static final int INTERVAL_SECONDS = 1;
  private static final int PROBES = 2;
  private static final int MARGIN_SECONDS = 5;

  @AfterEach
  void noThreadOutlivesItsServer() {
    Threads.assertNoServerThreads();
  }

  @Test
  void keepAlive_peerVanishesAfterAFullLine_closedAsPeerResetWithinIdlePlusProbes()
      throws Exception {
    String socat = Peers.require("socat", "socat");
    try (NetnsPair net = NetnsPair.create();
        ChildJvm server =
            ChildJvm.startUnder(
                net.inNamespace(net.serverNamespace),
                KeepAliveServer.class,
                NetnsPair.SERVER_ADDRESS,
                "" + IDLE_SECONDS,
                "" + INTERVAL_SECONDS,
                "" + PROBES)) {
      int port = Integer.parseInt(server.await(60, "PORT ").substring(5));
      List<String> command = new ArrayList<>(net.inNamespace(net.clientNamespace));
      command.addAll(List.of(socat, "-u", "STDIN", "TCP:" + NetnsPair.SERVER_ADDRESS + ":" + port));
      Process client = new ProcessBuilder(command).redirectErrorStream(true).start();
      try {
        OutputStream toClient = client.getOutputStream();
        toClient.write("position 1\n".getBytes(UTF_8));
        toClient.flush();
        server.await(30, "OPEN ");
        server.await(30, "LINE position 1");

        net.cutClient();
        long cut = System.nanoTime();
        long bound = IDLE_SECONDS + (long) INTERVAL_SECONDS * PROBES + MARGIN_SECONDS;
        String closed = server.await(bound, "CLOSED ");
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cut);
        System.out.printf(
            "vanished peer closed %d ms after its link went down (keepalive %d s + %d x %d s)%n",
            millis, IDLE_SECONDS, PROBES, INTERVAL_SECONDS);
        assertThat(closed).endsWith(" " + CloseReason.PEER_RESET);
        assertThat(client.isAlive()).as("the client never learnt of it").isTrue();
      } finally {
        client.destroyForcibly();
        client.waitFor(10, TimeUnit.SECONDS);
      }
      server.endInput();
      assertThat(server.waitForExit(30)).isZero();
    }
  }
}
