package dev.lineserver.internal;

import dev.lineserver.CloseReason;
import dev.lineserver.RefusalReason;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import org.jspecify.annotations.Nullable;

/**
 * The PROXY protocol stage: reads the header that opens the stream ({@link ProxyHeader}), takes the
 * client it names as the peer's address, admits that client (the ranges, the per-address limit),
 * and from then on hands every byte on. In optional mode a stream that does not begin with a
 * signature, or stops before one, is plain: the bytes held meanwhile go on first. {@code header} is
 * null once the header is through.
 */
final class ProxyStage implements Stage {
  private final Stage next;
  private final Context context;
  private final Admission admission;
  private @Nullable ProxyHeader header;

  ProxyStage(Stage next, Context context, Admission admission, boolean optional) {
    this.next = next;
    this.context = context;
    this.admission = admission;
    this.header = new ProxyHeader(optional, ProxyHeader.DEFAULT_MAX_V2_LENGTH);
  }

  @Override
  public void read(ByteBuffer bytes) {
    ProxyHeader decoder = header;
    if (decoder == null) {
      next.read(bytes);
      return;
    }
    ProxyHeader.Status status;
    try {
      status = decoder.feed(bytes);
    } catch (ProxyHeaderException e) {
      context.handshakeFailed(e);
      return;
    }
    if (status == ProxyHeader.Status.NEED_MORE) {
      return;
    }
    if (status == ProxyHeader.Status.NOT_PROXY) {
      if (servePlain(decoder)) {
        next.read(bytes);
      }
      return;
    }
    header = null;
    InetSocketAddress client = decoder.source();
    if (client != null) {
      if (!admission.allows(client)) {
        context.refuse(client, CloseReason.NOT_ALLOWED, RefusalReason.NOT_ALLOWED);
        return;
      }
      context.peer().proxied(client);
    }
    if (admittedAfterHeader()) {
      context.handshakeDone();
      next.read(bytes);
    }
  }

  /** Optional mode, no header: the bytes held so far are the stream's first. True if it goes on. */
  private boolean servePlain(ProxyHeader decoder) {
    header = null;
    if (!admittedAfterHeader()) {
      return false;
    }
    context.handshakeDone();
    next.read(decoder.heldBytes());
    return !context.isClosed();
  }

  /** Counts the connection under its address now known; past that address's limit, refuses it. */
  private boolean admittedAfterHeader() {
    Peer peer = context.peer();
    if (admission.admitAfterHeader(peer) == null) {
      return true;
    }
    context.refuse(
        peer.remoteAddress(),
        CloseReason.MAX_CONNECTIONS_PER_ADDRESS,
        RefusalReason.MAX_CONNECTIONS_PER_ADDRESS);
    return false;
  }

  /**
   * A stream that sent nothing just ends; one that ended inside its header failed; in optional
   * mode, one that never began a signature was plain.
   */
  @Override
  public void endOfStream() {
    ProxyHeader decoder = header;
    if (decoder != null) {
      if (decoder.version() == 0 && !decoder.heldBytes().hasRemaining()) {
        return;
      }
      if (!decoder.mayBePlain()) {
        context.handshakeFailed(
            new ProxyHeaderException("connection ended inside its PROXY header"));
        return;
      }
      if (!servePlain(decoder)) {
        return;
      }
    }
    next.endOfStream();
  }

  /** Optional mode, quiet before a signature began: a plain stream, idle or slow. */
  @Override
  public void quiet() {
    ProxyHeader decoder = header;
    if (decoder == null) {
      next.quiet();
    } else if (decoder.mayBePlain()) {
      servePlain(decoder);
    }
  }

  @Override
  public ByteBuffer outbound() {
    return next.outbound();
  }

  /** The header is not through yet. */
  boolean inHeader() {
    return header != null;
  }

  @Override
  public @Nullable String handshake() {
    return header != null ? "PROXY protocol header" : next.handshake();
  }

  @Override
  public boolean holdsPartialInput() {
    ProxyHeader decoder = header;
    if (decoder == null) {
      return next.holdsPartialInput();
    }
    return decoder.version() != 0 || decoder.heldBytes().hasRemaining();
  }

  @Override
  public void closed() {
    next.closed();
  }
}
