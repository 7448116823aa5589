package dev.lineserver.internal;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One connection's send queue: copies of what the application sent, from any thread, on their way
 * to the connection's I/O thread, which writes them in order. Senders append to {@code pending}
 * under this object's lock; the I/O thread takes all of it at once into {@code writing}, its own,
 * once what it took before is written. {@code size} counts every byte sent and not yet written and
 * never passes {@code max}; besides those bytes, only the last buffer of each list is partly empty
 * and only the first of {@code writing} partly written: at most 3 × {@link #SEGMENT} of slack. Made
 * at a connection's first send; once {@code sealed}, nothing more is taken.
 */
final class Outbox {
  /** What {@link #append} did. */
  static final int QUEUED = 0;

  /** Queued into an empty queue: the caller must have the I/O thread flush. */
  static final int QUEUED_WAKE = 1;

  static final int FULL = 2;

  /** Full, and the first refusal since the queue last had room: report it. */
  static final int FULL_FIRST = 3;

  static final int SEALED = 4;

  /** The most a buffer of the queue holds; the first of a batch is sized to its send. */
  static final int SEGMENT = 8 * 1024;

  private static final int FIRST_SEGMENT = 512;

  private final int max;
  private final List<ByteBuffer> pending = new ArrayList<>(); // write mode; guarded by this
  private int size; // guarded by this
  private boolean sealed; // guarded by this
  private boolean wakeRequested; // guarded by this: the I/O thread will take what is pending
  private boolean fullReported; // guarded by this
  private final ArrayDeque<ByteBuffer> writing = new ArrayDeque<>(4); // read mode; I/O thread
  private int writingBytes; // the I/O thread's, under the lock when it changes size

  Outbox(int max) {
    this.max = max;
  }

  /** Queues a copy of {@code length} bytes of {@code bytes} from index {@code offset}. */
  synchronized int append(ByteBuffer bytes, int offset, int length) {
    int refused = admit(length);
    if (refused >= 0) {
      return refused;
    }
    int at = offset;
    int left = length;
    while (left > 0) {
      ByteBuffer tail = tail(left);
      int n = Math.min(left, tail.remaining());
      tail.put(tail.position(), bytes, at, n);
      tail.position(tail.position() + n);
      at += n;
      left -= n;
    }
    return queued(length);
  }

  /** Queues {@code text}, every char of which is below 0x80, as one byte each. */
  synchronized int appendAscii(CharSequence text, byte suffix, boolean withSuffix) {
    int length = text.length() + (withSuffix ? 1 : 0);
    int refused = admit(length);
    if (refused >= 0) {
      return refused;
    }
    int at = 0;
    int chars = text.length();
    while (at < chars) {
      ByteBuffer tail = tail(length - at); // the delimiter counted, so it fits the first buffer
      int end = Math.min(chars, at + tail.remaining());
      for (; at < end; at++) {
        tail.put((byte) text.charAt(at));
      }
    }
    if (withSuffix) {
      tail(1).put(suffix);
    }
    return queued(length);
  }

  /** -1 if {@code length} more bytes may be queued, else what the send gets. */
  private int admit(int length) {
    if (sealed) {
      return SEALED;
    }
    if (length > max - size) {
      if (fullReported) {
        return FULL;
      }
      fullReported = true;
      return FULL_FIRST;
    }
    return -1;
  }

  private ByteBuffer tail(int wanted) {
    if (!pending.isEmpty()) {
      ByteBuffer tail = pending.get(pending.size() - 1);
      if (tail.hasRemaining()) {
        return tail;
      }
    }
    int capacity = pending.isEmpty() ? Math.max(FIRST_SEGMENT, wanted) : SEGMENT;
    ByteBuffer tail = ByteBuffer.allocate(Math.min(SEGMENT, capacity));
    pending.add(tail);
    return tail;
  }

  private int queued(int length) {
    size += length;
    if (wakeRequested || length == 0) {
      return QUEUED;
    }
    wakeRequested = true;
    return QUEUED_WAKE;
  }

  /** The bytes sent and not yet written; any thread. */
  synchronized int size() {
    return size;
  }

  /**
   * What to write next, in read mode, empty if nothing is queued: the I/O thread writes what the
   * socket takes and asks again. What was written since the last call leaves {@code size} (so the
   * room it makes is there for the next send at once); taking what is pending, once all taken
   * before is written, clears the wake request, so the next send asks for a flush again.
   */
  ByteBuffer next() {
    int unwritten = 0;
    for (ByteBuffer buffer : writing) {
      unwritten += buffer.remaining();
    }
    boolean take = unwritten == 0;
    if (take) {
      writing.clear();
    }
    if (take || unwritten != writingBytes) {
      synchronized (this) {
        if (unwritten != writingBytes) {
          size -= writingBytes - unwritten;
          writingBytes = unwritten;
          if (size <= max / 2) {
            fullReported = false; // the peer read half: a queue full again is a new episode
          }
        }
        if (take) {
          wakeRequested = false;
          for (ByteBuffer buffer : pending) {
            buffer.flip();
            writingBytes += buffer.remaining();
            writing.addLast(buffer);
          }
          pending.clear();
        }
      }
    }
    ByteBuffer head;
    while ((head = writing.peekFirst()) != null && !head.hasRemaining()) {
      writing.pollFirst();
    }
    return head == null ? Stage.NO_BYTES : head;
  }

  /** True once everything sent was written; for the I/O thread. */
  boolean isEmpty() {
    for (ByteBuffer buffer : writing) {
      if (buffer.hasRemaining()) {
        return false;
      }
    }
    synchronized (this) {
      return pending.isEmpty();
    }
  }

  /** Takes no more sends. */
  synchronized void seal() {
    sealed = true;
  }

  /** Seals and drops what was not written; returns how many bytes that was. For the I/O thread. */
  int drop() {
    int unwritten = 0;
    for (ByteBuffer buffer : writing) {
      unwritten += buffer.remaining();
    }
    writing.clear();
    synchronized (this) {
      sealed = true;
      for (ByteBuffer buffer : pending) {
        unwritten += buffer.position();
      }
      pending.clear();
      size = 0;
      writingBytes = 0;
    }
    return unwritten;
  }
}
