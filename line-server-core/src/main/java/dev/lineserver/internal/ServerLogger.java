package dev.lineserver.internal;

import java.lang.System.Logger;
import java.util.ResourceBundle;
import org.jspecify.annotations.Nullable;

/**
 * The library's logger as one named server writes to it: every message begins with {@code [name] },
 * so that the log lines of two servers in one JVM can be told apart. The logger's name stays {@code
 * dev.lineserver}, so configuration and routing do not change. Immutable, any thread.
 */
final class ServerLogger implements Logger {
  private final Logger delegate;
  private final String prefix;

  ServerLogger(Logger delegate, String name) {
    this.delegate = delegate;
    this.prefix = "[" + name + "] "; // the name's characters are none of MessageFormat's
  }

  @Override
  public String getName() {
    return delegate.getName();
  }

  @Override
  public boolean isLoggable(Level level) {
    return delegate.isLoggable(level);
  }

  @Override
  public void log(
      Level level,
      @Nullable ResourceBundle bundle,
      @Nullable String msg,
      @Nullable Throwable thrown) {
    delegate.log(level, bundle, bundle == null ? prefix + msg : msg, thrown);
  }

  @Override
  public void log(
      Level level,
      @Nullable ResourceBundle bundle,
      @Nullable String format,
      @Nullable Object... params) {
    delegate.log(level, bundle, bundle == null ? prefix + format : format, params);
  }
}
