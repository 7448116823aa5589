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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Serves meters as Prometheus text at {@code GET /metrics} with the JDK's {@link HttpServer}. Owns
 * its registry, the HTTP server, its dispatcher thread ({@code HTTP-Dispatcher}, named by the JDK)
 * and the one thread {@code vehicle-service-metrics} that runs the handler. {@link #close()} ends
 * both threads, releases the port and closes the registry.
 */
final class MetricsEndpoint implements AutoCloseable {
  static final String THREAD_NAME = VehicleService.THREAD_PREFIX + "-metrics";
  static final String PATH = "/metrics";

  private final PrometheusMeterRegistry registry;
  private final HttpServer http;
  private final ExecutorService executor;
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
    ExecutorService executor = Executors.newSingleThreadExecutor(r -> new Thread(r, THREAD_NAME));
    http.createContext(PATH, new MetricsHandler(registry));
    http.setExecutor(executor);
    http.start();
    return new MetricsEndpoint(registry, http, executor);
  }

  int port() {
    return http.getAddress().getPort();
  }

  /** Serves {@code handler} at {@code path} too, from the same thread as the meters. */
  void route(String path, HttpHandler handler) {
    http.createContext(path, handler);
  }

  /** Where to scrape, e.g. {@code http://127.0.0.1:9100/metrics}. */
  String url() {
    InetAddress address = http.getAddress().getAddress();
    String host = address.getHostAddress();
    return "http://"
        + (address instanceof Inet6Address ? "[" + host + "]" : host)
        + ":"
        + port()
        + PATH;
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
