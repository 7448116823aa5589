package dev.lineserver.internal;

import dev.lineserver.ClientAuth;
import java.util.Arrays;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;

/** How the server makes its TLS engines: server mode, TLS 1.3 and 1.2 only, the client auth. */
public final class Tls {
  private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

  private Tls() {}

  /**
   * A server-side engine from {@code context}.
   *
   * @throws IllegalArgumentException if the context enables neither TLS 1.3 nor TLS 1.2
   */
  public static SSLEngine serverEngine(SSLContext context, ClientAuth clientAuth) {
    SSLEngine engine = context.createSSLEngine();
    engine.setUseClientMode(false);
    String[] enabled =
        Arrays.stream(engine.getEnabledProtocols())
            .filter(p -> Arrays.asList(PROTOCOLS).contains(p))
            .toArray(String[]::new);
    if (enabled.length == 0) {
      throw new IllegalArgumentException(
          "tls: "
              + context.getProtocol()
              + " context enables "
              + Arrays.toString(engine.getEnabledProtocols())
              + " (expected: TLSv1.3 or TLSv1.2)");
    }
    engine.setEnabledProtocols(enabled);
    switch (clientAuth) {
      case REQUIRED -> engine.setNeedClientAuth(true);
      case OPTIONAL -> engine.setWantClientAuth(true);
      case NONE -> engine.setWantClientAuth(false);
    }
    return engine;
  }
}
