package dev.lineserver.benchmarks.load;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * What every server's sink reports to: lines counted at the sink, open connections and, in latency
 * mode, send→sink latency parsed from the line's stamp; in ACK mode, the ACKs the server could not
 * send. Called concurrently from all I/O threads.
 */
final class Meter {
  private final boolean latency;
  private final int rawLineLength;
  private final LongAdder lines = new LongAdder();
  private final LongAdder rawBytes = new LongAdder();
  private final LongAdder empty = new LongAdder();
  private final LongAdder negative = new LongAdder();
  private final LongAdder refused = new LongAdder();
  private final AtomicInteger open = new AtomicInteger();
  private final Recorder recorder = new Recorder(3);

  /**
   * @param rawLineLength the fixed line length the raw server divides its byte count by; 0 if
   *     unknown
   */
  Meter(boolean latency, int rawLineLength) {
    this.latency = latency;
    this.rawLineLength = rawLineLength;
  }

  /** Counts a decoded line; in latency mode parses its stamp (the second field). */
  void string(String line) {
    if (latency) {
      int first = line.indexOf(',');
      int second = line.indexOf(',', first + 1);
      if (first >= 0 && second > first) {
        record(Long.parseLong(line, first + 1, second, 10));
      }
    }
    lines.increment();
    if (line.isEmpty()) {
      empty.increment();
    }
  }

  /** Counts a line seen only as bytes, of {@code length} bytes. */
  void bytes(int length) {
    lines.increment();
    if (length == 0) {
      empty.increment();
    }
  }

  /** Counts bytes read by the raw server, which turns them into lines of a known length. */
  void rawBytes(long count) {
    rawBytes.add(count);
  }

  boolean latency() {
    return latency;
  }

  /** Records the latency of a line stamped at {@code sentNanos}. */
  void record(long sentNanos) {
    long delay = System.nanoTime() - sentNanos;
    if (delay < 0) {
      negative.increment();
      delay = 0;
    }
    recorder.recordValue(delay);
  }

  /** Counts an ACK the server could not send (its send queue full, or the connection closed). */
  void ackRefused() {
    refused.increment();
  }

  void opened() {
    open.incrementAndGet();
  }

  void closed() {
    open.decrementAndGet();
  }

  long lines() {
    return lines.sum() + (rawLineLength > 0 ? rawBytes.sum() / rawLineLength : 0);
  }

  int open() {
    return open.get();
  }

  long acksRefused() {
    return refused.sum();
  }

  long negative() {
    return negative.sum();
  }

  /** The latencies recorded since the last call, which starts a new interval. */
  Histogram interval() {
    return recorder.getIntervalHistogram();
  }
}
