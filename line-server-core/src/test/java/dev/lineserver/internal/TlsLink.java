package dev.lineserver.internal;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.SplittableRandom;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import org.jspecify.annotations.Nullable;

/**
 * A client {@link SSLEngine} wired in memory to a {@link TlsCodec}, for tests; one thread drives
 * both. The client's bytes reach the stage in chunks that a {@link Chunker} cuts, each in a fresh
 * array between junk bytes that are overwritten once the stage returns; the stage's outbound bytes
 * reach the client at most {@link #writeLimit} per step, as through a slow socket. A client-side
 * failure is kept in {@link #clientFailure}, after which the client still sends its alert. The
 * stage's delegated tasks run through a {@link TaskRunner}, inline by default, or wait for the test
 * ({@link #deferTasks}). Uses no test library, so that a child JVM can run it.
 */
final class TlsLink {
  /** Cuts the client's byte stream: the next chunk's length, 1..available, at stream offset. */
  interface Chunker {
    int next(long offset, int available);
  }

  static final Chunker WHOLE = (offset, available) -> available;

  /** Runs the stage's delegated tasks before the link goes on. */
  interface TaskRunner {
    void run(Runnable tasks);
  }

  private static final ByteBuffer NO_BYTES = ByteBuffer.allocate(0);

  private static final int PADDING = 3;
  private static final byte JUNK = (byte) 0xA5;
  private static final int MAX_ROUNDS = 100_000;
  private static final int WIRE_SIZE = 64 * 1024;

  final SSLEngine client;
  final TlsCodec stage;
  private final Chunker chunker;
  private final Deque<ByteBuffer> toSend = new ArrayDeque<>();
  private final ByteArrayOutputStream atServer = new ByteArrayOutputStream();
  private final ByteArrayOutputStream atClient = new ByteArrayOutputStream();
  private final ByteBuffer toServer = ByteBuffer.allocate(WIRE_SIZE);
  private final ByteBuffer toClient = ByteBuffer.allocate(WIRE_SIZE);
  private final ByteBuffer clientPlaintext = ByteBuffer.allocate(TlsCodec.MAX_BUFFER);
  private TaskRunner taskRunner = Runnable::run;
  private boolean deferTasks;
  private int writeLimit = Integer.MAX_VALUE;
  private long fedToStage;
  private long takenFromStage;
  private boolean closeWhileReceiving;
  private @Nullable SSLException clientFailure;

  /** Wires {@code client} to a stage around {@code server}; the client starts its handshake. */
  TlsLink(SSLEngine server, SSLEngine client, Chunker chunker) throws SSLException {
    client.beginHandshake();
    this.client = client;
    this.stage = new TlsCodec(server, TlsCodec.newPlaintextBuffer());
    this.chunker = chunker;
  }

  static SSLEngine serverEngine(SSLContext context, String protocol) {
    SSLEngine engine = context.createSSLEngine();
    engine.setUseClientMode(false);
    engine.setEnabledProtocols(new String[] {protocol});
    return engine;
  }

  /** A client that checks the server's certificate names localhost. */
  static SSLEngine clientEngine(SSLContext context, String protocol) {
    SSLEngine engine = context.createSSLEngine("localhost", 8443);
    engine.setUseClientMode(true);
    SSLParameters parameters = engine.getSSLParameters();
    parameters.setEndpointIdentificationAlgorithm("HTTPS");
    parameters.setProtocols(new String[] {protocol});
    engine.setSSLParameters(parameters);
    return engine;
  }

  /** Cuts once, at stream offset {@code at}. */
  static Chunker splitAt(long at) {
    return (offset, available) ->
        offset < at && at < offset + available ? (int) (at - offset) : available;
  }

  /** Cuts into chunks of 1..{@code max} bytes. */
  static Chunker random(SplittableRandom random, int max) {
    return (offset, available) -> 1 + random.nextInt(Math.min(max, available));
  }

  void writeLimit(int bytesPerStep) {
    this.writeLimit = bytesPerStep;
  }

  void taskRunner(TaskRunner runner) {
    this.taskRunner = runner;
  }

  /**
   * From now on, the link leaves the stage's tasks waiting: the test takes them ({@link
   * TlsCodec#takeTasks}) and calls {@link #tasksDone}.
   */
  void deferTasks() {
    this.deferTasks = true;
  }

  /** Tells the stage its tasks ran ({@code failure} if they threw) and lets it go on. */
  void tasksDone(@Nullable Throwable failure) throws SSLException {
    stage.tasksDone(failure);
    stage.unwrap(NO_BYTES, this::serverReceived);
    runStageTasks();
  }

  /** From now on, the stage's receiver calls {@link TlsCodec#closeOutbound} before it reads. */
  void closeWhileReceiving() {
    this.closeWhileReceiving = true;
  }

  /** Queues {@code data} for the client to send; each array starts a new record. */
  void send(byte[]... data) {
    for (byte[] bytes : data) {
      toSend.add(ByteBuffer.wrap(bytes));
    }
  }

  /** Runs the handshake to its end on both sides. */
  void handshake() throws SSLException {
    pump();
    if (!stage.handshakeDone()
        || client.getHandshakeStatus() != HandshakeStatus.NOT_HANDSHAKING
        || clientFailure != null) {
      throw new AssertionError(
          "handshake incomplete: stage "
              + stage.handshakeDone()
              + ", client "
              + client.getHandshakeStatus(),
          clientFailure);
    }
  }

  /** Moves bytes both ways until neither side has anything more to do; stage failures escape. */
  void pump() throws SSLException {
    for (int round = 0; round < MAX_ROUNDS; round++) {
      boolean moved = clientWrap();
      moved |= feedStage();
      moved |= feedClient();
      if (!moved) {
        return;
      }
    }
    throw new AssertionError("the link did not settle in " + MAX_ROUNDS + " rounds");
  }

  /** Lets the client wrap what it has, and returns those bytes instead of feeding the stage. */
  byte[] takeClientBytes() {
    clientWrap();
    toServer.flip();
    byte[] bytes = new byte[toServer.remaining()];
    toServer.get(bytes).clear();
    return bytes;
  }

  byte[] serverReceived() {
    return atServer.toByteArray();
  }

  byte[] clientReceived() {
    return atClient.toByteArray();
  }

  @Nullable SSLException clientFailure() {
    return clientFailure;
  }

  /** All bytes taken from the stage's {@link TlsCodec#outbound} so far. */
  long takenFromStage() {
    return takenFromStage;
  }

  boolean clientWrap() {
    boolean moved = false;
    for (int i = 0; i < MAX_ROUNDS; i++) {
      if (toServer.remaining() < client.getSession().getPacketBufferSize()) {
        return moved;
      }
      try {
        runTasks(client);
        ByteBuffer data = toSend.isEmpty() ? ByteBuffer.allocate(0) : toSend.getFirst();
        if (client.getHandshakeStatus() != HandshakeStatus.NEED_WRAP && !data.hasRemaining()) {
          return moved;
        }
        SSLEngineResult result = client.wrap(data, toServer);
        if (!data.hasRemaining() && !toSend.isEmpty()) {
          toSend.removeFirst();
        }
        if (result.bytesProduced() == 0 && result.bytesConsumed() == 0) {
          return moved;
        }
        moved = true;
      } catch (SSLException e) {
        failed(e);
      }
    }
    return moved;
  }

  boolean feedStage() throws SSLException {
    toServer.flip();
    boolean moved = toServer.hasRemaining();
    try {
      while (toServer.hasRemaining()) {
        int length = chunker.next(fedToStage, toServer.remaining());
        if (length < 1 || length > toServer.remaining()) {
          throw new AssertionError("chunker: " + length + " of " + toServer.remaining());
        }
        feed(length);
      }
    } finally {
      toServer.compact();
    }
    return moved;
  }

  private void feed(int length) throws SSLException {
    byte[] array = new byte[PADDING + length + PADDING];
    Arrays.fill(array, JUNK);
    toServer.get(array, PADDING, length);
    ByteBuffer chunk = ByteBuffer.wrap(array, PADDING, length);
    fedToStage += length;
    stage.unwrap(chunk, this::serverReceived);
    if (chunk.position() != PADDING + length || chunk.limit() != PADDING + length) {
      throw new AssertionError("unwrap left " + chunk + " of " + length + " bytes");
    }
    Arrays.fill(array, JUNK);
    runStageTasks();
  }

  private void runStageTasks() throws SSLException {
    if (deferTasks) {
      return;
    }
    for (Runnable tasks = stage.takeTasks(); tasks != null; tasks = stage.takeTasks()) {
      Throwable failure = null;
      try {
        taskRunner.run(tasks);
      } catch (RuntimeException | Error e) {
        failure = e;
      }
      stage.tasksDone(failure);
      stage.unwrap(NO_BYTES, this::serverReceived);
    }
  }

  private void serverReceived(ByteBuffer plaintext) {
    if (closeWhileReceiving) {
      stage.closeOutbound();
    }
    byte[] bytes = new byte[plaintext.remaining()];
    plaintext.get(bytes);
    atServer.writeBytes(bytes);
  }

  boolean feedClient() {
    ByteBuffer outbound = stage.outbound();
    int length = Math.min(Math.min(outbound.remaining(), writeLimit), toClient.remaining());
    boolean moved = length > 0;
    toClient.put(outbound.slice(outbound.position(), length));
    outbound.position(outbound.position() + length);
    takenFromStage += length;
    toClient.flip();
    try {
      while (toClient.hasRemaining() && !client.isInboundDone()) {
        SSLEngineResult result = client.unwrap(toClient, clientPlaintext);
        runTasks(client);
        clientPlaintext.flip();
        atClient.write(clientPlaintext.array(), 0, clientPlaintext.limit());
        clientPlaintext.clear();
        if (result.bytesConsumed() == 0) {
          break;
        }
        moved = true;
      }
    } catch (SSLException e) {
      failed(e);
      toClient.position(toClient.limit());
    } finally {
      toClient.compact();
    }
    return moved;
  }

  private void failed(SSLException e) {
    if (clientFailure == null) {
      clientFailure = e;
    }
    toSend.clear();
  }

  private static void runTasks(SSLEngine engine) {
    for (Runnable t = engine.getDelegatedTask(); t != null; t = engine.getDelegatedTask()) {
      t.run();
    }
  }
}
