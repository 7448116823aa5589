package dev.lineserver.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Two network namespaces made for one test, joined by a veth pair: {@link #SERVER_ADDRESS} in the
 * server's, {@link #CLIENT_ADDRESS} in the client's. Nothing is added to the machine's own
 * namespace, so their traffic stays between them. {@link #close} deletes both namespaces (and with
 * them the veth pair), also after a failed {@link #create}. Needs root and {@code ip} (iproute2).
 */
public final class NetnsPair implements AutoCloseable {
  public static final String SERVER_ADDRESS = "169.254.77.1";
  public static final String CLIENT_ADDRESS = "169.254.77.2";
  private static final long COMMAND_SECONDS = 10;

  public final String ip;
  public final String serverNamespace;
  public final String clientNamespace;
  public final String clientDevice;
  private final List<String> created = new ArrayList<>();

  private NetnsPair(String ip, String suffix) {
    this.ip = ip;
    this.serverNamespace = "ls-test-" + suffix + "-s";
    this.clientNamespace = "ls-test-" + suffix + "-c";
    this.clientDevice = "lsc" + suffix;
  }

  /**
   * Makes the namespaces and the link between them; skips the test (or fails it under {@code
   * LINESERVER_REQUIRE_PEERS=1}) when {@code ip} is missing or namespaces cannot be made here.
   */
  public static NetnsPair create() throws IOException, InterruptedException {
    String ip = Peers.require("ip", "iproute2");
    String suffix = Integer.toHexString(new SplittableRandom().nextInt(0x100000, 0x1000000));
    NetnsPair pair = new NetnsPair(ip, suffix);
    try {
      String failure = tryRun(ip, "netns", "add", pair.serverNamespace);
      if (failure != null) {
        throw Peers.unavailable(
            "cannot make a network namespace (root and CAP_SYS_ADMIN are needed): " + failure);
      }
      pair.created.add(pair.serverNamespace);
      pair.run(ip, "netns", "add", pair.clientNamespace);
      pair.created.add(pair.clientNamespace);
      String serverDevice = "lss" + suffix;
      pair.run(
          ip,
          "-n",
          pair.serverNamespace,
          "link",
          "add",
          serverDevice,
          "type",
          "veth",
          "peer",
          "name",
          pair.clientDevice,
          "netns",
          pair.clientNamespace);
      pair.run(
          ip,
          "-n",
          pair.serverNamespace,
          "addr",
          "add",
          SERVER_ADDRESS + "/30",
          "dev",
          serverDevice);
      pair.run(
          ip,
          "-n",
          pair.clientNamespace,
          "addr",
          "add",
          CLIENT_ADDRESS + "/30",
          "dev",
          pair.clientDevice);
      pair.run(ip, "-n", pair.serverNamespace, "link", "set", serverDevice, "up");
      pair.run(ip, "-n", pair.clientNamespace, "link", "set", pair.clientDevice, "up");
      return pair;
    } catch (IOException | InterruptedException | RuntimeException | Error e) {
      pair.close();
      throw e;
    }
  }

  /** The command prefix that runs a program in {@code namespace}. */
  public List<String> inNamespace(String namespace) {
    return List.of(ip, "netns", "exec", namespace);
  }

  /** Takes the client's end of the link down: from the server's side the client vanished. */
  public void cutClient() throws IOException, InterruptedException {
    run(ip, "-n", clientNamespace, "link", "set", clientDevice, "down");
  }

  public void run(String... command) throws IOException, InterruptedException {
    String failure = tryRun(command);
    if (failure != null) {
      throw new IllegalStateException(failure);
    }
  }

  /** Runs {@code command}; null if it exited 0, else what it printed and its exit code. */
  private static String tryRun(String... command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    process.getOutputStream().close();
    if (!process.waitFor(COMMAND_SECONDS, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      return String.join(" ", command) + ": no exit within " + COMMAND_SECONDS + " s";
    }
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return process.exitValue() == 0
        ? null
        : String.join(" ", command) + ": exit " + process.exitValue() + ": " + output.strip();
  }

  /** Deletes the namespaces this pair made; what fails is printed, not thrown. */
  @Override
  public void close() throws IOException {
    for (String namespace : created) {
      try {
        String failure = tryRun(ip, "netns", "del", namespace);
        if (failure != null) {
          System.out.println("NetnsPair: " + failure);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        System.out.println("NetnsPair: interrupted deleting " + namespace);
      }
    }
    created.clear();
  }
}
