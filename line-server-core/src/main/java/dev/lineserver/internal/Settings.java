package dev.lineserver.internal;

import dev.lineserver.ByteLineSink;
import dev.lineserver.ClientAuth;
import dev.lineserver.ConnectionLineSink;
import dev.lineserver.LineServerListener;
import dev.lineserver.ProxyProtocol;
import java.nio.charset.Charset;
import java.util.concurrent.Executor;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

/**
 * What every connection of one server shares: validated by the builder, immutable. Exactly one of
 * {@code stringSink} and {@code byteSink} is set. Lines end at {@code delimiter}. A timeout of 0 is
 * off. With a {@code sinkExecutor}, lines reach the sink through it, within the {@code budget}.
 * Accepted TCP sockets get {@code keepAlive}. With an {@code sslContext}, {@code tlsTasks} runs the
 * handshakes' delegated tasks.
 */
public record Settings(
    int maxLineLength,
    byte delimiter,
    Charset charset,
    @Nullable ConnectionLineSink stringSink,
    @Nullable ByteLineSink byteSink,
    LineServerListener listener,
    int maxRestarts,
    long restartPeriodNanos,
    long idleTimeoutNanos,
    long lineTimeoutNanos,
    Admission admission,
    ProxyProtocol proxyProtocol,
    @Nullable SSLContext sslContext,
    ClientAuth clientAuth,
    long handshakeTimeoutNanos,
    @Nullable Executor sinkExecutor,
    Budget budget,
    KeepAlive keepAlive,
    @Nullable TlsTasks tlsTasks) {}
