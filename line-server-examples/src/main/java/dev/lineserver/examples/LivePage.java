package dev.lineserver.examples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/**
 * {@code GET /}: the live page, {@code live-page.html} next to this class, one file with its script
 * and style inline (nothing fetched from elsewhere: the page works offline). It plots the latest
 * position of every vehicle, scaled to the fleet's bounding box, and the service's figures, as the
 * {@link EventStream} at {@value EventStream#PATH} sends them. Any other path under {@code /} is
 * 404.
 */
final class LivePage implements HttpHandler {
  static final String PATH = "/";
  static final String RESOURCE = "live-page.html";

  private final byte[] html;

  /**
   * Reads the page once.
   *
   * @throws UncheckedIOException if it cannot be read (a broken build)
   */
  LivePage() {
    try (InputStream in = LivePage.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new UncheckedIOException(new IOException("missing resource " + RESOURCE));
      }
      html = in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!exchange.getRequestURI().getPath().equals(PATH)) {
        exchange.sendResponseHeaders(404, -1);
        return;
      }
      String method = exchange.getRequestMethod();
      if (!method.equals("GET") && !method.equals("HEAD")) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
      exchange.getResponseHeaders().set("Cache-Control", "no-cache");
      // The page and its inline script and style, nothing else; no framing by other sites.
      exchange
          .getResponseHeaders()
          .set(
              "Content-Security-Policy",
              "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline';"
                  + " connect-src 'self'; frame-ancestors 'none'");
      if (method.equals("HEAD")) {
        exchange.sendResponseHeaders(200, -1);
        return;
      }
      exchange.sendResponseHeaders(200, html.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(html);
      }
    }
  }
}
