package dev.lineserver.internal;

import dev.lineserver.ConnectionInfo;
import dev.lineserver.LineServerHealth;
import dev.lineserver.LineServerStats;
import dev.lineserver.ProxyProtocol;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * One running server: its listening socket, its acceptor and I/O threads, the {@link Services} they
 * share, their counters summed into stats, and the shutdown. Made by {@link #start} on the caller's
 * thread; after that only {@code closing} and {@code closed} change, and any thread may call it.
 * The first {@link #close} shuts down (on a thread of its own when called from one of the server's
 * threads or from a sink callback), every later one waits for that.
 */
public final class Engine {
  private static final long GRACE_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final ServerSocketChannel channel;
  private final SocketAddress localAddress;
  private final Acceptor acceptor;
  private final IoLoop[] loops;
  private final Thread[] threads;
  private final Services services;
  private final long shutdownTimeoutNanos;
  private final @Nullable String name;
  private final boolean sinkExecutor;
  private final long sinkStallNanos;
  private final String closeThreadName;

  private final AtomicBoolean closing = new AtomicBoolean();
  private final CountDownLatch closed = new CountDownLatch(1);
  private volatile @Nullable Thread closer; // shuts down for a close() from a server thread

  private Engine(
      ServerSocketChannel channel,
      Acceptor acceptor,
      IoLoop[] loops,
      Thread[] threads,
      Services services,
      Settings settings)
      throws IOException {
    this.channel = channel;
    this.localAddress = channel.getLocalAddress();
    this.acceptor = acceptor;
    this.loops = loops;
    this.threads = threads;
    this.services = services;
    this.shutdownTimeoutNanos = settings.timeouts().shutdownNanos();
    this.name = settings.name();
    this.sinkExecutor = settings.sink().executor() != null;
    this.sinkStallNanos = settings.sink().stallNanos();
    this.closeThreadName = threadPrefix(name) + "close";
  }

  /**
   * Binds synchronously and starts the threads; on failure, releases what it took and throws.
   *
   * @throws BindException if the address cannot be bound; the message names the address
   * @throws IOException if the listening socket or a selector cannot be opened
   */
  public static Engine start(Settings settings) throws IOException {
    Services services = services(settings);
    prepareForDescriptorExhaustion();
    Settings.Listen listen = settings.listen();
    Path unixSocket = listen.unixSocket();
    ServerSocketChannel channel =
        unixSocket != null
            ? bindUnix(unixSocket, listen.backlog(), services.reports().log)
            : bindTcp(listen);
    IoLoop[] loops = new IoLoop[settings.ioThreads()];
    Acceptor acceptor;
    try {
      for (int i = 0; i < loops.length; i++) {
        loops[i] = new IoLoop(settings, services);
      }
      acceptor = new Acceptor(channel, loops, settings, services);
    } catch (IOException | RuntimeException e) {
      for (IoLoop loop : loops) {
        if (loop != null) {
          loop.discard();
        }
      }
      channel.close();
      throw e;
    }
    String prefix = threadPrefix(settings.name());
    Thread[] threads = new Thread[loops.length + 1];
    threads[0] = thread(acceptor, prefix + "accept");
    for (int i = 0; i < loops.length; i++) {
      threads[i + 1] = thread(loops[i], prefix + "io-" + (i + 1));
    }
    Engine engine = new Engine(channel, acceptor, loops, threads, services, settings);
    try {
      for (Thread thread : threads) {
        thread.start();
      }
    } catch (RuntimeException | Error e) {
      engine.close();
      throw e;
    }
    return engine;
  }

  /** How the server's thread names begin: {@code line-server-}, then its name and a dash. */
  static String threadPrefix(@Nullable String name) {
    return name == null ? "line-server-" : "line-server-" + name + "-";
  }

  private static Services services(Settings settings) {
    Settings.Limits limits = settings.limits();
    Settings.TlsSettings tls = settings.tls();
    return new Services(
        new Admission(
            limits.maxConnections(),
            limits.maxConnectionsPerAddress(),
            settings.proxyProtocol() != ProxyProtocol.OFF,
            limits.ranges()),
        new Budget(settings.sink().maxPendingBytes()),
        tls == null
            ? null
            : new TlsTasks(
                tls.threads() != 0 ? tls.threads() : TlsTasks.defaultThreads(),
                threadPrefix(settings.name())),
        new Reports(settings.name()),
        new Registry());
  }

  /** The address bound: an {@link InetSocketAddress}, or a {@link UnixDomainSocketAddress}. */
  public SocketAddress localAddress() {
    return localAddress;
  }

  /** The TCP port bound, or -1 for a Unix-domain socket. */
  public int port() {
    return localAddress instanceof InetSocketAddress inet ? inet.getPort() : -1;
  }

  /** The counters of the acceptor and every I/O loop, summed; from any thread. */
  public LineServerStats stats() {
    Counters[] all = new Counters[loops.length + 1];
    all[0] = acceptor.counters();
    for (int i = 0; i < loops.length; i++) {
      all[i + 1] = loops[i].counters();
    }
    Counters total = Counters.sum(all);
    return new LineServerStats(
        total.get(Counter.ACCEPTED),
        services.admission().open(),
        total.get(Counter.REFUSED),
        total.get(Counter.BYTES),
        total.get(Counter.LINES),
        total.get(Counter.TOO_LONG),
        total.get(Counter.SINK_FAILURES),
        total.get(Counter.RESTART_LIMITS),
        total.get(Counter.READS_PAUSED),
        services.budget().pending(),
        total.get(Counter.LINES_DROPPED),
        total.get(Counter.PARTIAL_LINES_DROPPED),
        total.get(Counter.BYTES_SENT),
        total.get(Counter.SENDS_REFUSED),
        total.get(Counter.SEND_BYTES_DROPPED),
        total.closedCounts());
  }

  /** {@code LineServer.health()}: a handful of reads, no lock, from any thread. */
  public LineServerHealth health() {
    List<String> reasons = new ArrayList<>(2);
    boolean closed = closing.get();
    Thread acceptorThread = threads[0];
    boolean acceptorAlive = acceptorThread.isAlive();
    boolean open = channel.isOpen();
    if (closed) {
      reasons.add("not accepting: the server is closed");
    } else if (!acceptorAlive) {
      reasons.add("not accepting: " + acceptorThread.getName() + " has ended");
    } else if (!open) {
      reasons.add("not accepting: the listening socket is closed");
    }
    int alive = 0;
    for (int i = 1; i < threads.length; i++) {
      if (threads[i].isAlive() && loops[i - 1].isRunning()) {
        alive++;
      } else if (!closed) {
        reasons.add(threads[i].getName() + " has died; its connections were closed");
      }
    }
    long waiting = sinkExecutor ? services.budget().waitingNanos(System.nanoTime()) : 0;
    boolean stalled = !closed && waiting > sinkStallNanos;
    if (stalled) {
      reasons.add(
          "sink stalled: lines have waited "
              + TimeUnit.NANOSECONDS.toMillis(waiting)
              + " ms with none through (sinkStallThreshold: "
              + Duration.ofNanos(sinkStallNanos)
              + ")");
    }
    return new LineServerHealth(
        !closed && acceptorAlive && open,
        loops.length,
        alive,
        Duration.ofNanos(waiting),
        stalled,
        reasons);
  }

  /** The open connection with this id, or null. */
  public @Nullable ConnectionInfo connection(long id) {
    return services.registry().get(id);
  }

  /** The open connections, a snapshot. */
  public List<ConnectionInfo> connections() {
    return services.registry().all();
  }

  /** {@code LineServer.close()}: its javadoc is the contract. */
  public void close() {
    boolean first = closing.compareAndSet(false, true);
    if (isOwnThread(Thread.currentThread()) || Callbacks.isInside(services.reports())) {
      if (first) {
        Thread thread = new Thread(this::shutdown, closeThreadName);
        thread.setDaemon(false);
        closer = thread;
        thread.start();
      }
      return;
    }
    if (first) {
      shutdown();
    } else {
      awaitClosed();
      Thread thread = closer;
      if (thread != null) {
        // It counted down and has only to end: once close() returns, no server thread is left.
        boolean interrupted = join(thread, System.nanoTime() + GRACE_NANOS);
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  private void shutdown() {
    boolean interrupted = Thread.interrupted(); // restored at the end: the drain must not see it
    try {
      // The acceptor takes what waits in the backlog, then closes the listening socket.
      acceptor.stop();
      long deadline = System.nanoTime() + shutdownTimeoutNanos;
      interrupted |= join(threads[0], deadline);
      threads[0].interrupt(); // a connectionRefused or acceptFailed listener call that blocks
      try {
        channel.close(); // already closed, unless the acceptor thread never ran or died
        if (localAddress instanceof UnixDomainSocketAddress unix) {
          Files.deleteIfExists(unix.getPath());
        }
      } catch (IOException e) {
        services.reports().log.log(Level.WARNING, "closing the listening socket failed", e);
      }
      for (IoLoop loop : loops) {
        loop.drain(deadline);
      }
      // Past the deadline plus a grace, a thread still in a sink or listener call is interrupted;
      // one grace later, close() gives up on it.
      long grace = deadline + GRACE_NANOS;
      for (int i = 1; i < threads.length; i++) {
        interrupted |= join(threads[i], grace);
      }
      for (int i = 1; i < threads.length; i++) {
        threads[i].interrupt(); // no effect on a thread that has ended
      }
      long last = Math.max(System.nanoTime(), grace) + GRACE_NANOS;
      for (int i = 1; i < threads.length; i++) {
        interrupted |= join(threads[i], last);
        if (threads[i].isAlive()) {
          giveUp(threads[i], loops[i - 1]);
        }
      }
      TlsTasks tlsTasks = services.tlsTasks();
      if (tlsTasks != null) {
        // The I/O threads are gone: what is left is at most one task per TLS thread, now moot.
        tlsTasks.shutdown(Math.max(last, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100)));
      }
      awaitSinkQueues(last); // keeps the flag, should the caller be interrupted meanwhile
    } finally {
      closed.countDown();
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Waits for {@code thread} until {@code deadlineNanos}; returns whether the caller was
   * interrupted meanwhile, for the wait goes on regardless.
   */
  private static boolean join(Thread thread, long deadlineNanos) {
    boolean interrupted = false;
    while (thread.isAlive()) {
      long left = deadlineNanos - System.nanoTime();
      if (left <= 0) {
        break;
      }
      try {
        thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    return interrupted;
  }

  /** An I/O thread stuck in user code: its sockets are closed and it is left to end by itself. */
  private void giveUp(Thread thread, IoLoop loop) {
    int sockets = loop.abandon();
    services
        .reports()
        .log
        .log(
            Level.WARNING,
            "close(): "
                + thread.getName()
                + " is still in a sink or listener call after the shutdown timeout; its "
                + sockets
                + " sockets were closed, it delivers nothing more and ends when the call returns",
            where(thread));
  }

  /** A throwable that carries where {@code thread} is now, for a log message. */
  private static Throwable where(Thread thread) {
    Throwable where = new Throwable(thread.getName() + " is here");
    where.setStackTrace(thread.getStackTrace());
    return where;
  }

  /**
   * With a sink executor: waits for the lines still queued for the sink, up to the deadline, then
   * drops what is left.
   */
  private void awaitSinkQueues(long deadlineNanos) {
    Budget budget = services.budget();
    if (budget.awaitQueues(deadlineNanos)) {
      return;
    }
    List<Thread> stuck = new ArrayList<>();
    long dropped = budget.abandonQueues(stuck);
    Throwable where = new Throwable("where the sink executor's threads are");
    for (Thread thread : stuck) {
      where.addSuppressed(where(thread));
    }
    services
        .reports()
        .log
        .log(
            Level.WARNING,
            "close(): the sink executor did not work off its queues by the shutdown timeout; "
                + dropped
                + " queued lines were dropped and no sink call starts again; "
                + stuck.size()
                + " calls under way run on (the executor's threads are yours: not interrupted)",
            where);
  }

  private void awaitClosed() {
    boolean interrupted = false;
    while (true) {
      try {
        closed.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private boolean isOwnThread(Thread current) {
    for (Thread thread : threads) {
      if (thread == current) {
        return true;
      }
    }
    TlsTasks tlsTasks = services.tlsTasks();
    return tlsTasks != null && tlsTasks.isOwnThread(current);
  }

  /**
   * Does now, while file descriptors are available, what the JDK does lazily and needs one for, so
   * that running out of them later cannot break the server: the first socket close opens a
   * descriptor of its own, and the first log message reads the logging configuration and, to print
   * its time, the time-zone database. Either failing throws an {@link Error}, which would end the
   * I/O thread closing a socket or the acceptor reporting that accepting failed.
   */
  @SuppressWarnings("ReturnValueIgnored") // getRules() is called for its loading, not its value
  private static void prepareForDescriptorExhaustion() throws IOException {
    SocketChannel.open().close();
    Events.LOGGER.isLoggable(Level.ERROR);
    ZoneId.systemDefault().getRules();
  }

  private static ServerSocketChannel bindTcp(Settings.Listen listen) throws IOException {
    InetAddress bindAddress = listen.bindAddress();
    SocketAddress address =
        bindAddress == null
            ? new InetSocketAddress(listen.port())
            : new InetSocketAddress(bindAddress, listen.port());
    ServerSocketChannel channel = ServerSocketChannel.open();
    channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
    return bind(channel, address, listen.backlog());
  }

  /**
   * Binds a Unix-domain socket at {@code path}. A socket file left there by a process that ended
   * without removing it (nothing accepts on it) is replaced; a live one, or any other file, is not.
   */
  private static ServerSocketChannel bindUnix(Path path, int backlog, System.Logger log)
      throws IOException {
    if (Files.exists(path, LinkOption.NOFOLLOW_LINKS) && isStaleSocket(path)) {
      log.log(Level.INFO, () -> "replacing the stale socket file " + path);
      Files.delete(path);
    }
    return bind(
        ServerSocketChannel.open(StandardProtocolFamily.UNIX),
        UnixDomainSocketAddress.of(path),
        backlog);
  }

  private static boolean isStaleSocket(Path path) throws IOException {
    if (!Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
        .isOther()) {
      return false; // a regular file, a directory or a link: not ours to delete
    }
    try {
      SocketChannel.open(UnixDomainSocketAddress.of(path)).close();
      return false; // something accepts on it
    } catch (IOException e) {
      return true;
    }
  }

  private static ServerSocketChannel bind(
      ServerSocketChannel channel, SocketAddress address, int backlog) throws IOException {
    try {
      channel.bind(address, backlog);
      return channel;
    } catch (BindException e) {
      channel.close();
      BindException named = new BindException(e.getMessage() + ": " + address);
      named.initCause(e);
      throw named;
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  private static Thread thread(Runnable task, String name) {
    Thread thread = new Thread(task, name);
    thread.setDaemon(false);
    return thread;
  }

  /** The server's name, or null. */
  public @Nullable String name() {
    return name;
  }

  @Override
  public String toString() {
    return "LineServer["
        + (name == null ? "" : name + ", ")
        + localAddress
        + (closing.get() ? ", closed]" : "]");
  }
}
