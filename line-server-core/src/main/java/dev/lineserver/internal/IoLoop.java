package dev.lineserver.internal;

import static java.util.Objects.requireNonNull;

import dev.lineserver.CloseReason;
import dev.lineserver.ProxyProtocol;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/**
 * One I/O thread: owns its selector, its connections and one direct read buffer they share. Other
 * threads talk to it only through {@link #register}, {@link #execute}, {@link #resumePaused} and
 * {@link #drain}, which queue or flag and wake the selector, and {@link #abandon}, which shuts the
 * sockets of a loop stuck in user code. Its connections are listed in {@code connections}, changed
 * by the loop thread alone under the list's lock; those with sends to write after this round are in
 * {@code toFlush}, those closing with their deadlines in {@code closing}. Runs until drained, then
 * closes its selector.
 */
final class IoLoop implements Runnable, Connection.Loop {
  /** A draining connection that received nothing for this long, its socket empty, is done. */
  static final long QUIET_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  /** How often a draining loop looks for quiet connections and the deadline. */
  private static final long DRAIN_TICK_MILLIS = 50;

  /** How often a loop looks for closing connections past their time. */
  private static final long CLOSING_TICK_MILLIS = 100;

  /** How soon a queue the sink executor refused is handed to it again. */
  private static final long RETRY_MILLIS = 10;

  static final int READ_BUFFER_SIZE = 64 * 1024;

  private final Selector selector;
  private final Settings settings;
  private final Services services;
  private final Counters counters = new Counters();
  private final long timerTickNanos;
  private final Queue<Accepted> incoming = new ConcurrentLinkedQueue<>();
  private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final List<Connection> connections = new ArrayList<>(); // guarded by itself
  private final List<Connection> paused = new ArrayList<>();
  private final List<Connection> retrying = new ArrayList<>();
  private final List<Connection> toFlush = new ArrayList<>();
  private final List<Connection> closing = new ArrayList<>();
  private long[] closingDeadlines = new long[16]; // by index of closing
  private volatile @Nullable Thread thread;
  private volatile boolean resumeRequested;
  private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(READ_BUFFER_SIZE);
  private final ByteBuffer heapCopy;
  private final @Nullable ByteBuffer plaintext;
  private final SinkQueue.@Nullable Chunk chunk;
  private volatile long drainDeadline;
  private volatile boolean drainRequested;
  private volatile boolean terminated;
  private volatile boolean abandoned;
  private final BooleanSupplier abandonedCheck = this::isAbandoned;
  private final SinkCall.Scope sinkScope;

  /** An accepted socket on its way to the loop, which registers it and makes its connection. */
  private record Accepted(SocketChannel channel, Peer peer) {}

  IoLoop(Settings settings, Services services) throws IOException {
    this.settings = settings;
    this.services = services;
    this.timerTickNanos = timerTick(settings);
    this.sinkScope = new SinkCall.Scope(settings, counters, abandonedCheck);
    boolean copies = settings.sink().byteSink() == null && settings.tls() == null;
    this.heapCopy = ByteBuffer.allocate(copies ? READ_BUFFER_SIZE : 0);
    this.plaintext = settings.tls() == null ? null : TlsCodec.newPlaintextBuffer();
    this.chunk = settings.sink().executor() == null ? null : new SinkQueue.Chunk();
    this.selector = Selector.open();
    services.budget().attach(this::resumePaused);
  }

  /** How often to look for timed-out connections: a quarter of the shortest timeout, 10 ms..1 s. */
  private static long timerTick(Settings settings) {
    long shortest = Long.MAX_VALUE;
    Settings.Timeouts timeouts = settings.timeouts();
    long handshake =
        settings.proxyProtocol() == ProxyProtocol.OFF && settings.tls() == null
            ? 0
            : timeouts.handshakeNanos();
    for (long timeout : new long[] {timeouts.idleNanos(), timeouts.lineNanos(), handshake}) {
      if (timeout > 0) {
        shortest = Math.min(shortest, timeout);
      }
    }
    if (shortest == Long.MAX_VALUE) {
      return 0;
    }
    return Math.max(
        TimeUnit.MILLISECONDS.toNanos(10), Math.min(shortest / 4, TimeUnit.SECONDS.toNanos(1)));
  }

  @Override
  public Settings settings() {
    return settings;
  }

  @Override
  public Services services() {
    return services;
  }

  /** This loop's counters; readable from any thread. */
  @Override
  public Counters counters() {
    return counters;
  }

  /**
   * What a connection splits a read from: the read buffer itself, or for a String sink without TLS
   * a copy of it in this loop's heap buffer. {@code new String} decodes from a {@code byte[]}, and
   * one bulk copy per read costs less than a small copy per line (BENCHMARKS.md, section 0); TLS
   * already decrypts into a heap buffer. For the loop thread alone.
   */
  @Override
  public ByteBuffer splittable(ByteBuffer read) {
    if (heapCopy.capacity() == 0) {
      return read;
    }
    heapCopy.clear();
    heapCopy.put(read).flip();
    return heapCopy;
  }

  /** Where this loop's TLS stages decrypt to; for the loop thread alone, and only with TLS. */
  @Override
  public ByteBuffer plaintextBuffer() {
    return requireNonNull(plaintext, "plaintext buffer without TLS");
  }

  /** Where this loop's connections pack lines for a sink executor; for the loop thread alone. */
  @Override
  public SinkQueue.Chunk chunk() {
    return requireNonNull(chunk, "chunk without a sink executor");
  }

  /** Hands an accepted socket to this loop; from any thread. */
  void register(SocketChannel channel, Peer peer) {
    incoming.add(new Accepted(channel, peer));
    selector.wakeup();
    if (terminated) {
      closeIncoming(CloseReason.SERVER_CLOSE);
    }
  }

  /**
   * Asks the loop to finish: keep reading until each connection is done (at EOF, or quiet with no
   * partial line), or until {@code deadlineNanos}, then end. From any thread; no {@link #register}
   * may follow.
   */
  void drain(long deadlineNanos) {
    drainDeadline = deadlineNanos;
    drainRequested = true;
    selector.wakeup();
  }

  /** False once the loop has ended, normally or by an error. */
  @Override
  public boolean isRunning() {
    return !terminated;
  }

  /** Closes the selector if the loop never ran. */
  void discard() {
    terminated = true;
    closeQuietly();
  }

  /**
   * For {@code close()}, when this loop's thread did not end by the deadline: it is inside a sink
   * or listener call that does not return. Closes every socket of the loop from the calling thread
   * (its peers see the connection end) and makes the loop deliver nothing more and report nothing
   * to the listener: once the call returns, the thread counts its connections closed with {@code
   * SHUTDOWN_TIMEOUT}, closes its selector and ends. Returns how many sockets it closed.
   */
  int abandon() {
    abandoned = true;
    List<Connection> open;
    synchronized (connections) {
      open = new ArrayList<>(connections);
    }
    for (Connection connection : open) {
      connection.sealSends();
      connection.transport().close();
    }
    selector.wakeup();
    return open.size();
  }

  /** True once the drain's deadline has passed: a connection reads nothing more. */
  @Override
  public boolean isPastDrainDeadline() {
    return drainRequested && System.nanoTime() - drainDeadline >= 0;
  }

  /** True once {@code close()} gave up waiting for this loop: nothing more is delivered. */
  @Override
  public BooleanSupplier abandoned() {
    return abandonedCheck;
  }

  private boolean isAbandoned() {
    return abandoned;
  }

  @Override
  public SinkCall.Scope sinkScope() {
    return sinkScope;
  }

  @Override
  public void run() {
    thread = Thread.currentThread();
    Callbacks.enter(services.reports()); // for good: the listener's defaults log for this server
    CloseReason reason = CloseReason.SERVER_ERROR;
    try {
      long drainStart = 0;
      long nextTimerCheck = System.nanoTime() + timerTickNanos;
      while (!abandoned) {
        // A sink or listener that set the interrupt flag would make every select return at once.
        boolean interrupted = Thread.interrupted();
        if (interrupted) {
          services.reports().log.log(Level.DEBUG, "cleared an interrupt left on the I/O thread");
        }
        if (toFlush.isEmpty()) {
          selector.select(this::onReady, selectTimeoutMillis(drainStart, nextTimerCheck));
        } else {
          selector.selectNow(this::onReady); // sends of the last round wait to be written
        }
        openIncoming();
        runTasks();
        flushSends();
        if (!closing.isEmpty()) {
          expireClosing();
        }
        if (resumeRequested) {
          resumeRequested = false;
          resumeAll();
        }
        retryRefused(isPastDrainDeadline());
        if (drainStart == 0 && drainRequested) {
          drainStart = System.nanoTime();
        }
        if (timerTickNanos > 0 && drainStart == 0 && System.nanoTime() - nextTimerCheck >= 0) {
          checkTimeouts();
          nextTimerCheck = System.nanoTime() + timerTickNanos;
        }
        if (drainStart != 0 && drainStep(drainStart)) {
          reason = CloseReason.SERVER_CLOSE;
          return;
        }
      }
      reason = CloseReason.SHUTDOWN_TIMEOUT;
    } catch (IOException e) {
      services.reports().log.log(Level.ERROR, "I/O loop failed; closing its connections", e);
    } catch (RuntimeException | Error e) {
      services
          .reports()
          .log
          .log(Level.ERROR, Thread.currentThread().getName() + " died; closing its connections", e);
      throw e;
    } finally {
      terminated = true;
      closeAll(reason);
    }
  }

  /** 0 (block) with nothing timed; else until the next drain tick, retry or timeout check. */
  private long selectTimeoutMillis(long drainStart, long nextTimerCheck) {
    if (!retrying.isEmpty()) {
      return RETRY_MILLIS;
    }
    if (drainStart != 0) {
      return DRAIN_TICK_MILLIS;
    }
    long wait = closing.isEmpty() ? 0 : CLOSING_TICK_MILLIS;
    if (timerTickNanos == 0) {
      return wait;
    }
    long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(nextTimerCheck - System.nanoTime()));
    return wait == 0 ? left : Math.min(wait, left);
  }

  private void checkTimeouts() {
    long now = System.nanoTime();
    // Downward: a connection that closes leaves its slot to the last one, already seen.
    for (int i = connections.size() - 1; i >= 0; i--) {
      if (i < connections.size()) {
        connections.get(i).checkTimeouts(now, readBuffer);
      }
    }
  }

  /** Runs {@code task} on this loop's thread; from any thread. */
  @Override
  public void execute(Runnable task) {
    tasks.add(task);
    selector.wakeup();
  }

  @Override
  public boolean inLoop() {
    return Thread.currentThread() == thread;
  }

  @Override
  public void flushSoon(Connection connection) {
    toFlush.add(connection);
  }

  /** Writes what was sent to connections during this round, once per connection. */
  private void flushSends() {
    int due = toFlush.size(); // a flush may add its connection again, for the next round
    for (int i = 0; i < due; i++) {
      toFlush.get(i).flushSends();
    }
    toFlush.subList(0, due).clear();
  }

  /** The connection writes its last bytes, or waits for its peer's EOF, until the deadline. */
  @Override
  public void closing(Connection connection, long deadlineNanos) {
    int at = connection.closingSlot;
    if (at < 0) {
      if (closing.size() == closingDeadlines.length) {
        closingDeadlines = Arrays.copyOf(closingDeadlines, 2 * closingDeadlines.length);
      }
      at = closing.size();
      closing.add(connection);
      connection.closingSlot = at;
    }
    closingDeadlines[at] = deadlineNanos;
  }

  /** Closes the closing connections whose time is up. */
  private void expireClosing() {
    long now = System.nanoTime();
    for (int i = closing.size() - 1; i >= 0; i--) {
      if (i < closing.size() && now - closingDeadlines[i] >= 0) {
        closing.get(i).closingExpired(); // removes it, through connectionClosed
      }
    }
  }

  /** Asks the loop to resume its paused connections; from any thread. */
  void resumePaused() {
    resumeRequested = true;
    selector.wakeup();
  }

  /**
   * Notes a connection that paused reading. Should the budget have been released before it was
   * noted, no wake-up would come, so it is checked again here.
   */
  @Override
  public void paused(Connection connection) {
    paused.add(connection);
    if (!services.budget().isSpent()) {
      resumeAll();
    }
  }

  private void resumeAll() {
    for (Connection connection : paused) {
      connection.resume();
    }
    paused.clear();
  }

  /** Hands {@code connection}'s refused queue to the executor again on the next retry tick. */
  @Override
  public void retryLater(Connection connection) {
    retrying.add(connection);
  }

  /** Retries the refused queues; past the drain's deadline, gives them up instead. */
  private void retryRefused(boolean late) {
    if (retrying.isEmpty()) {
      return;
    }
    List<Connection> due = new ArrayList<>(retrying);
    retrying.clear();
    for (Connection connection : due) {
      if (late) {
        connection.abandonSink();
      } else {
        connection.retrySink();
      }
    }
  }

  /** Runs the tasks queued before the round; those they queue wait for the next one. */
  private void runTasks() {
    for (int due = tasks.size(); due > 0; due--) {
      Runnable task = tasks.poll();
      if (task == null) {
        return;
      }
      task.run();
    }
  }

  /** Takes a closed connection off the list, moving the last one into its slot. */
  @Override
  public void connectionClosed(Connection connection) {
    synchronized (connections) {
      int slot = connection.slot;
      Connection last = connections.remove(connections.size() - 1);
      if (last != connection) {
        connections.set(slot, last);
        last.slot = slot;
      }
      connection.slot = -1;
    }
    int at = connection.closingSlot;
    if (at >= 0) {
      int last = closing.size() - 1;
      Connection moved = closing.get(last);
      closing.set(at, moved);
      moved.closingSlot = at;
      closingDeadlines[at] = closingDeadlines[last];
      closing.remove(last);
      connection.closingSlot = -1;
    }
  }

  private void onReady(SelectionKey key) {
    Connection connection = (Connection) key.attachment();
    if (key.isValid() && key.isWritable()) {
      connection.flushSends();
    }
    if (key.isValid() && key.isReadable()) {
      connection.onReadable(readBuffer);
    }
  }

  private void openIncoming() {
    Accepted accepted;
    while ((accepted = incoming.poll()) != null) {
      NioTransport transport;
      try {
        transport = NioTransport.register(accepted.channel(), selector);
      } catch (IOException e) {
        services.reports().log.log(Level.DEBUG, "registering " + accepted.peer() + " failed", e);
        closeUnread(accepted, CloseReason.PEER_RESET);
        continue;
      }
      Connection connection;
      try {
        connection = new Connection(transport, accepted.peer(), this);
      } catch (RuntimeException e) { // its stages could not be made (say, the TLS engine)
        services.reports().log.log(Level.ERROR, "setting up " + accepted.peer() + " failed", e);
        transport.close();
        closeUnread(accepted, CloseReason.SERVER_ERROR);
        continue;
      }
      transport.attach(connection);
      synchronized (connections) {
        connection.slot = connections.size();
        connections.add(connection);
      }
      connection.open();
    }
  }

  /** Closes a socket the loop never read: it counts as closed, and nothing is reported. */
  private void closeUnread(Accepted accepted, CloseReason reason) {
    try {
      accepted.channel().close();
    } catch (IOException e) {
      services.reports().log.log(Level.DEBUG, () -> "closing " + accepted.peer() + " failed: " + e);
    }
    services.admission().release(accepted.peer());
    counters.closed(reason);
    services
        .reports()
        .log
        .log(Level.DEBUG, () -> "closed " + accepted.peer() + " before reading it: " + reason);
  }

  /**
   * Takes each connection one drain step ({@link Connection#drainStep}); returns true when none is
   * left and no refused queue waits for the executor.
   */
  private boolean drainStep(long drainStart) {
    long now = System.nanoTime();
    boolean late = now - drainDeadline >= 0;
    for (int i = connections.size() - 1; i >= 0; i--) {
      if (i < connections.size()) {
        connections.get(i).drainStep(now, drainStart, late, readBuffer);
      }
    }
    return connections.isEmpty() && incoming.isEmpty() && retrying.isEmpty() && tasks.isEmpty();
  }

  private void closeAll(CloseReason reason) {
    closeIncoming(reason);
    List<Connection> open;
    synchronized (connections) {
      open = new ArrayList<>(connections);
    }
    for (Connection connection : open) {
      connection.closeAtOnce(reason);
    }
    for (Connection connection : retrying) {
      connection.abandonSink();
    }
    retrying.clear();
    closeQuietly();
  }

  private void closeIncoming(CloseReason reason) {
    Accepted accepted;
    while ((accepted = incoming.poll()) != null) {
      closeUnread(accepted, reason);
    }
  }

  private void closeQuietly() {
    try {
      selector.close();
    } catch (IOException e) {
      services.reports().log.log(Level.DEBUG, "closing selector failed", e);
    }
  }
}
