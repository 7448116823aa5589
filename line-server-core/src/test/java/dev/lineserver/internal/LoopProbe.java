package dev.lineserver.internal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * For connection tests without sockets: an I/O loop's side with no thread. Tasks run at once;
 * pauses, closes and the drain deadline are recorded or set by the test.
 */
final class LoopProbe implements Connection.Loop {
  final Settings settings;
  final Services services;
  final Counters counters = new Counters();
  final SinkQueue.Chunk chunk = new SinkQueue.Chunk();
  final List<Connection> paused = new ArrayList<>();
  final List<Connection> closed = new ArrayList<>();
  final List<Connection> toFlush = new ArrayList<>();
  final List<Connection> closing = new ArrayList<>();
  boolean pastDrainDeadline;
  boolean onLoopThread = true; // false while a test plays another thread
  private final SinkCall.Scope sinkScope;

  LoopProbe(Settings settings) {
    this.settings = settings;
    this.services =
        new Services(
            new Admission(Integer.MAX_VALUE, Integer.MAX_VALUE, false, AddressRanges.ALL),
            new Budget(settings.sink().maxPendingBytes()),
            null,
            new Reports(),
            new Registry());
    this.sinkScope = new SinkCall.Scope(settings, counters, abandoned());
  }

  @Override
  public Settings settings() {
    return settings;
  }

  @Override
  public Services services() {
    return services;
  }

  @Override
  public Counters counters() {
    return counters;
  }

  @Override
  public ByteBuffer splittable(ByteBuffer read) {
    return read;
  }

  @Override
  public ByteBuffer plaintextBuffer() {
    throw new AssertionError("no TLS here");
  }

  @Override
  public SinkQueue.Chunk chunk() {
    return chunk;
  }

  @Override
  public BooleanSupplier abandoned() {
    return () -> false;
  }

  @Override
  public SinkCall.Scope sinkScope() {
    return sinkScope;
  }

  @Override
  public boolean isPastDrainDeadline() {
    return pastDrainDeadline;
  }

  @Override
  public boolean isRunning() {
    return true;
  }

  @Override
  public void execute(Runnable task) {
    task.run();
  }

  @Override
  public boolean inLoop() {
    return onLoopThread;
  }

  @Override
  public void flushSoon(Connection connection) {
    toFlush.add(connection);
  }

  /** What the loop does after its round: writes the sends of the round. */
  void flushSends() {
    List<Connection> due = new ArrayList<>(toFlush);
    toFlush.clear();
    due.forEach(Connection::flushSends);
  }

  @Override
  public void closing(Connection connection, long deadlineNanos) {
    if (!closing.contains(connection)) {
      closing.add(connection);
    }
  }

  @Override
  public void paused(Connection connection) {
    paused.add(connection);
  }

  @Override
  public void retryLater(Connection connection) {
    throw new AssertionError("no refusing executor here");
  }

  @Override
  public void connectionClosed(Connection connection) {
    closed.add(connection);
  }
}
