package dev.lineserver.internal;

import dev.lineserver.ProxyProtocol;
import javax.net.ssl.SSLEngine;

/**
 * Where a connection's stages are put in order, from its settings: bytes from the socket go through
 * the PROXY header (when on), TLS (when on), then the lines. A new stage is one class and one line
 * here. Stages are built from the last one, since each knows the next.
 */
final class Pipeline {
  private Pipeline() {}

  /** The first stage of a connection's pipeline, whose last is {@code lines}. */
  static Stage assemble(Connection.Loop loop, Stage.Context context, LineStage lines) {
    Settings settings = loop.settings();
    Stage stage = lines;
    Settings.TlsSettings tls = settings.tls();
    if (tls != null) {
      SSLEngine engine = Tls.serverEngine(tls.context(), tls.clientAuth());
      stage = new TlsStage(stage, context, new TlsCodec(engine, loop.plaintextBuffer()));
    }
    if (settings.proxyProtocol() != ProxyProtocol.OFF) {
      boolean optional = settings.proxyProtocol() == ProxyProtocol.OPTIONAL;
      stage = new ProxyStage(stage, context, loop.services().admission(), optional);
    }
    return stage;
  }
}
