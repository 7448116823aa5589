package dev.lineserver.internal;

/**
 * What {@link Counters} count, one constant per counter of {@link dev.lineserver.LineServerStats}
 * that the server's threads add to; the close reasons have slots of their own. A new counter is a
 * constant here, its increment where the event happens, and its field in the stats.
 */
enum Counter {
  ACCEPTED,
  REFUSED,
  BYTES,
  LINES,
  TOO_LONG,
  SINK_FAILURES,
  RESTART_LIMITS,
  READS_PAUSED,
  LINES_DROPPED,
  PARTIAL_LINES_DROPPED,
  BYTES_SENT,
  SENDS_REFUSED,
  SEND_BYTES_DROPPED
}
