package dev.lineserver.internal;

import dev.lineserver.ConnectionLineSink;
import dev.lineserver.LineServerListener;
import java.nio.charset.Charset;

/** What every connection of one server shares: validated by the builder, immutable. */
public record Settings(
    int maxLineLength,
    Charset charset,
    ConnectionLineSink sink,
    LineServerListener listener,
    int maxRestarts,
    long restartPeriodNanos) {}
