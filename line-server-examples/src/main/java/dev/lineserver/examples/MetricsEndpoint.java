package dev.lineserver.examples;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Serves meters as Prometheus text at {@code GET /metrics} with the JDK's {@link HttpServer}, and
 * whatever else is added with {@link #context}. Owns its registry, the HTTP server, its dispatcher
 * thread ({@code HTTP-Dispatcher}, named by the JDK) and the {@value #THREADS} threads {@code
 * vehicle-service-http-1}, ... that run the handlers; a handler that streams (the live page's
 * events) holds one for as long as its client stays. {@link #close()} closes the handlers that are
 * {@link AutoCloseable}, ends every thread, releases the port and closes the registry.
 */
final class MetricsEndpoint implements AutoCloseable {
  static final String THREAD_PREFIX = VehicleService.THREAD_PREFIX + "-http-";

  /**
   * Handler threads: every client {@link EventStream} admits, and a few for everything else, so a
   * scrape, a page load or a 503 is answered while the streams are full.
   */
  static final int THREADS = EventStream.MAX_CLIENTS + 4;

  static final String PATH = "/metrics";

  private final PrometheusMeterRegistry registry;
  private final HttpServer http;
  private final ExecutorService executor;
  private final List<AutoCloseable> closeFirst = new ArrayList<>();
  private boolean closed;

  private MetricsEndpoint(
      PrometheusMeterRegistry registry, HttpServer http, ExecutorService executor) {
    this.registry = registry;
    this.http = http;
    this.executor = executor;
  }

  /**
   * Binds {@code address:port} (0 picks a free port) and starts serving the meters of {@code
   * binder}.
   *
   * @throws IOException if the port cannot be bound
   */
  static MetricsEndpoint start(InetAddress address, int port, MeterBinder binder)
      throws IOException {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    binder.bindTo(registry);
    HttpServer http = HttpServer.create();
    try {
      http.bind(new InetSocketAddress(address, port), 0);
    } catch (IOException e) {
      http.stop(0); // HttpServer.create(address, ...) would leave its channel open here
      throw e;
    }
    AtomicInteger threads = new AtomicInteger();
    ExecutorService executor =
        Executors.newFixedThreadPool(
            THREADS, r -> new Thread(r, THREAD_PREFIX + threads.incrementAndGet()));
    http.createContext(PATH, new MetricsHandler(registry));
    http.setExecutor(executor);
    http.start();
    return new MetricsEndpoint(registry, http, executor);
  }

  /**
   * Serves {@code handler} at {@code path} (and below it, as {@link HttpServer#createContext}
   * does); {@link #close()} closes it first if it is {@link AutoCloseable}, so a handler that
   * streams can end its response before the server stops.
   */
  synchronized void context(String path, HttpHandler handler) {
    if (closed) {
      throw new IllegalStateException("closed");
    }
    http.createContext(path, handler);
    if (handler instanceof AutoCloseable closeable) {
      closeFirst.add(closeable);
    }
  }

  int port() {
    return http.getAddress().getPort();
  }

  /** Where to scrape, e.g. {@code http://127.0.0.1:9100/metrics}. */
  String url() {
    return url(PATH);
  }

  /** The URL of {@code path} on this server, e.g. {@code http://127.0.0.1:9100/}. */
  String url(String path) {
    InetAddress address = http.getAddress().getAddress();
    String host = address.getHostAddress();
    return "http://"
        + (address instanceof Inet6Address ? "[" + host + "]" : host)
        + ":"
        + port()
        + path;
  }

  /**
   * Stops at once: releases the port, cuts a scrape in progress (Prometheus scrapes again later),
   * waits for both threads to end and closes the registry. Idempotent.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (AutoCloseable handler : closeFirst) {
      try {
        handler.close();
      } catch (Exception e) {
        System.getLogger(MetricsEndpoint.class.getName())
            .log(System.Logger.Level.WARNING, "closing " + handler + " failed", e);
      }
    }
    http.stop(0); // closes the port and every connection, joins the dispatcher thread
    executor.shutdown();
    try {
      if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
        executor.shutdownNow();
      }
    } catch (InterruptedException e) {
      executor.shutdownNow();
      Thread.currentThread().interrupt();
    }
    registry.close();
  }
}
