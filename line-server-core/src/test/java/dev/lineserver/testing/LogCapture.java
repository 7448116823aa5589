package dev.lineserver.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** Collects what the library logs (logger {@code dev.lineserver}, through java.util.logging). */
public final class LogCapture extends Handler implements AutoCloseable {
  private final Logger logger = Logger.getLogger("dev.lineserver");
  private final List<LogRecord> records = new CopyOnWriteArrayList<>();

  public LogCapture() {
    logger.addHandler(this);
  }

  @Override
  public void publish(LogRecord record) {
    records.add(record);
  }

  /** The records at {@code level} or above. */
  public List<LogRecord> atLeast(Level level) {
    return records.stream().filter(r -> r.getLevel().intValue() >= level.intValue()).toList();
  }

  @Override
  public void flush() {}

  @Override
  public void close() {
    logger.removeHandler(this);
  }
}
