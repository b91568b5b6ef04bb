package dev.atelier.gateway.messaging;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import org.jboss.logging.Logger;

/**
 * An append-only local journal of records not yet confirmed elsewhere: the gateway writes each call
 * record here before the caller gets its answer, so a killed process loses none.
 *
 * <p>Records are framed as {@code [int length][int CRC32][payload]} in segment files named after
 * their first position ({@code 00000000000000000000.journal}); positions are logical and keep
 * growing across segments and restarts. One reader (the publisher thread) {@link #read}s records in
 * order and, once they are confirmed, moves the {@link #checkpoint} past them; a segment that is no
 * longer written and lies wholly before the checkpoint is deleted. On {@link #open} everything
 * after the checkpoint is read again; a torn tail (a write cut short by a kill, or a bad CRC) ends
 * its segment with a warning. A file lock keeps a second process off the same directory.
 *
 * <p>{@link #read} and {@link #checkpoint} belong to one thread; {@link #append} may be called from
 * any. {@link #append} is one positional {@code FileChannel.write} at the logical end, under a
 * lock, so a write that fails part-way (disk full) is overwritten by the next: the bytes are in the
 * kernel's page cache when it returns, which is enough for a process kill. With {@code fsync} it
 * also waits for the disk ({@code force}); concurrent appenders share one force (group commit).
 */
public final class RecordJournal implements Closeable {

  private static final Logger LOG = Logger.getLogger(RecordJournal.class);
  private static final String SUFFIX = ".journal";
  private static final int FRAME_HEADER = 8;

  /** A length above this is a torn or foreign frame, not a record. */
  static final int MAX_RECORD = 16 * 1024 * 1024;

  private final Path dir;
  private final long segmentBytes;
  private final boolean fsync;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final FileChannel checkpointChannel;
  private final ConcurrentSkipListMap<Long, Path> segments = new ConcurrentSkipListMap<>();
  private final ReentrantLock appendLock = new ReentrantLock();
  private final Object syncLock = new Object();
  private final AtomicLong appended = new AtomicLong();
  private final AtomicLong confirmed = new AtomicLong();
  private final long recovered;

  private FileChannel active;
  private long activeBase;
  private volatile FileChannel activeForSync;

  /** Logical end of the last complete append. */
  private volatile long written;

  private long synced;

  /** The reader's channel and its segment; used by the single reading thread only. */
  private FileChannel readChannel;

  private long readBase = -1;
  private volatile long checkpoint;
  private volatile boolean closed;

  /** Opens a new segment file for writing; tests substitute one whose writes fail. */
  @FunctionalInterface
  interface SegmentOpener {
    FileChannel open(Path file) throws IOException;
  }

  private static final SegmentOpener FILES =
      file ->
          FileChannel.open(
              file,
              StandardOpenOption.CREATE,
              StandardOpenOption.WRITE,
              StandardOpenOption.TRUNCATE_EXISTING);

  private final SegmentOpener opener;

  private RecordJournal(Path dir, long segmentBytes, boolean fsync, SegmentOpener opener)
      throws IOException {
    this.dir = dir;
    this.opener = opener;
    this.segmentBytes = segmentBytes;
    this.fsync = fsync;
    Files.createDirectories(dir);
    this.lockChannel =
        FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock taken;
    try {
      taken = lockChannel.tryLock();
    } catch (OverlappingFileLockException e) {
      taken = null;
    }
    if (taken == null) {
      lockChannel.close();
      throw new IllegalStateException(
          "the record journal "
              + dir.toAbsolutePath()
              + " is in use by another gateway process; give each replica its own"
              + " GATEWAY_RECORDS_JOURNAL_DIR");
    }
    this.lock = taken;
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : files.toList()) {
        String name = p.getFileName().toString();
        if (name.endsWith(SUFFIX)) {
          segments.put(Long.parseLong(name.substring(0, name.length() - SUFFIX.length())), p);
        }
      }
    }
    this.checkpointChannel =
        FileChannel.open(
            dir.resolve("checkpoint"),
            StandardOpenOption.CREATE,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE);
    long base = 0;
    Map.Entry<Long, Path> last = segments.lastEntry();
    if (last != null) {
      long size = Files.size(last.getValue());
      base = last.getKey() + size;
      if (size == 0) {
        // An empty segment from a start that wrote nothing: reuse its name.
        Files.delete(last.getValue());
        segments.remove(last.getKey());
        base = last.getKey();
      }
    }
    this.written = base;
    this.synced = base;
    long first = segments.isEmpty() ? base : segments.firstKey();
    long stored = readCheckpoint();
    this.checkpoint = Math.min(Math.max(stored, first), base);
    startSegment(base);
    this.recovered = countFrom(checkpoint);
    deleteConfirmedSegments();
  }

  /**
   * Opens (creating it if needed) the journal in {@code dir}, locking the directory.
   *
   * @param segmentBytes a segment is closed and a new one started once it holds this many bytes
   * @param fsync whether {@link #append} waits for the disk
   * @throws IllegalStateException when another process holds the directory
   */
  public static RecordJournal open(Path dir, long segmentBytes, boolean fsync) {
    return open(dir, segmentBytes, fsync, FILES);
  }

  static RecordJournal open(Path dir, long segmentBytes, boolean fsync, SegmentOpener opener) {
    try {
      return new RecordJournal(dir, segmentBytes, fsync, opener);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the record journal " + dir.toAbsolutePath(), e);
    }
  }

  /** Frames a payload: length, CRC32 and the bytes; done before taking the append lock. */
  public static byte[] frame(byte[] payload) {
    CRC32 crc = new CRC32();
    crc.update(payload);
    byte[] framed = new byte[FRAME_HEADER + payload.length];
    ByteBuffer.wrap(framed).putInt(payload.length).putInt((int) crc.getValue()).put(payload);
    return framed;
  }

  /**
   * Appends one framed record ({@link #frame}); when it returns the record survives a kill of this
   * process (and, with fsync, of the machine).
   *
   * @return the logical position just after the record
   */
  public long append(byte[] framed) throws IOException {
    long end;
    appendLock.lock();
    try {
      if (closed) {
        throw new ClosedChannelException();
      }
      long offset = written - activeBase;
      if (offset > 0 && offset + framed.length > segmentBytes) {
        roll();
      }
      // At the logical end, not the channel's position: a write that fails part-way (disk full)
      // leaves written where it was, so the next append overwrites the partial bytes instead of
      // following them, and every record stays where its position says.
      offset = written - activeBase;
      ByteBuffer buf = ByteBuffer.wrap(framed);
      while (buf.hasRemaining()) {
        active.write(buf, offset + buf.position());
      }
      end = written + framed.length;
      written = end;
    } finally {
      appendLock.unlock();
    }
    appended.incrementAndGet();
    if (fsync) {
      sync(end);
    }
    return end;
  }

  /**
   * Waits until everything up to {@code end} is on disk. The first waiter forces the file for all
   * records written so far; the others find their record already synced.
   */
  private void sync(long end) throws IOException {
    synchronized (syncLock) {
      if (synced >= end) {
        return;
      }
      long target;
      FileChannel ch;
      appendLock.lock();
      try {
        target = written;
        ch = activeForSync;
      } finally {
        appendLock.unlock();
      }
      try {
        ch.force(false);
      } catch (ClosedChannelException rolled) {
        // roll() forced that segment before closing it, up to its end (>= target)
      }
      synced = Math.max(synced, target);
    }
  }

  private void roll() throws IOException {
    if (fsync) {
      active.force(false);
    }
    active.close();
    startSegment(written);
  }

  private void startSegment(long base) throws IOException {
    Path p = dir.resolve(String.format("%020d%s", base, SUFFIX));
    FileChannel ch = opener.open(p);
    segments.put(base, p);
    active = ch;
    activeForSync = ch;
    activeBase = base;
    if (fsync) {
      try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
        d.force(true); // the new file's directory entry
      } catch (IOException e) {
        LOG.debugf("cannot sync the journal directory: %s", e.getMessage());
      }
    }
  }

  /** A record read back, with the position just after it. */
  public record Entry(byte[] payload, long end) {}

  /**
   * Records after {@code from}, at most {@code max}, in append order.
   *
   * @return the records and the position reading stopped at ({@link Batch#next}), which is past a
   *     torn tail that was skipped even when no record follows it
   */
  public Batch read(long from, int max) throws IOException {
    List<Entry> out = new ArrayList<>();
    long pos = Math.max(from, segments.isEmpty() ? from : segments.firstKey());
    while (out.size() < max) {
      long end = written;
      if (pos >= end) {
        break;
      }
      Map.Entry<Long, Path> seg = segments.floorEntry(pos);
      if (seg == null) {
        break;
      }
      Long nextBase = segments.higherKey(seg.getKey());
      long limit = nextBase != null ? nextBase : end;
      if (pos >= limit) {
        pos = nextBase == null ? pos : nextBase;
        if (nextBase == null) {
          break;
        }
        continue;
      }
      pos = readSegment(seg.getValue(), seg.getKey(), pos, limit, max, out);
    }
    return new Batch(out, pos);
  }

  /** What {@link #read} found. */
  public record Batch(List<Entry> entries, long next) {}

  /** Reads records in [pos, limit) of one segment; returns where it stopped. */
  private long readSegment(Path file, long base, long pos, long limit, int max, List<Entry> out)
      throws IOException {
    try {
      FileChannel ch = reader(file, base);
      ByteBuffer header = ByteBuffer.allocate(FRAME_HEADER);
      while (pos < limit && out.size() < max) {
        header.clear();
        if (limit - pos < FRAME_HEADER || !readFully(ch, header, pos - base)) {
          return torn(file, pos, limit, "a partial frame header");
        }
        header.flip();
        int length = header.getInt();
        int crc = header.getInt();
        if (length < 0 || length > MAX_RECORD || pos + FRAME_HEADER + length > limit) {
          return torn(file, pos, limit, "a frame length of " + length);
        }
        ByteBuffer payload = ByteBuffer.allocate(length);
        if (!readFully(ch, payload, pos - base + FRAME_HEADER)) {
          return torn(file, pos, limit, "a partial record");
        }
        CRC32 check = new CRC32();
        check.update(payload.array());
        if ((int) check.getValue() != crc) {
          return torn(file, pos, limit, "a CRC mismatch");
        }
        pos += FRAME_HEADER + length;
        out.add(new Entry(payload.array(), pos));
      }
      return pos;
    } catch (java.nio.file.NoSuchFileException gone) {
      // deleted after being fully confirmed: nothing left to read in it
      return limit;
    }
  }

  /** The open read channel of a segment, kept between reads (one reader thread). */
  private FileChannel reader(Path file, long base) throws IOException {
    if (readChannel == null || readBase != base) {
      closeReader();
      readChannel = FileChannel.open(file, StandardOpenOption.READ);
      readBase = base;
    }
    return readChannel;
  }

  private void closeReader() throws IOException {
    if (readChannel != null) {
      readChannel.close();
      readChannel = null;
    }
  }

  private long torn(Path file, long pos, long limit, String what) {
    if (limit < written || segments.higherKey(pos) != null) {
      // Only an older segment can end in a torn record (the active one is read up to complete
      // appends): the process that wrote it was killed mid-write. Skip to the next segment.
      LOG.warnf(
          "record journal %s: %s at position %d; skipping the %d byte(s) to the end of the segment",
          file.getFileName(), what, pos, limit - pos);
      return limit;
    }
    throw new IllegalStateException(
        "record journal " + file + ": " + what + " at " + pos + " below the written end");
  }

  private static boolean readFully(FileChannel ch, ByteBuffer buf, long at) throws IOException {
    while (buf.hasRemaining()) {
      int n = ch.read(buf, at + buf.position());
      if (n < 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * Everything before {@code position} is confirmed (published, or kept by the database spool): it
   * is not read again at the next start, and whole segments before it are deleted.
   *
   * @param records how many records that confirmation covers, for the backlog gauges
   */
  public void checkpoint(long position, int records) throws IOException {
    if (position <= checkpoint) {
      return;
    }
    ByteBuffer buf = ByteBuffer.allocate(16);
    buf.putLong(position).putLong(~position).flip();
    while (buf.hasRemaining()) {
      checkpointChannel.write(buf, buf.position());
    }
    checkpoint = position;
    confirmed.addAndGet(records);
    deleteConfirmedSegments();
  }

  private long readCheckpoint() throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(16);
    if (!readFully(checkpointChannel, buf, 0)) {
      return 0;
    }
    buf.flip();
    long pos = buf.getLong();
    if (buf.getLong() != ~pos) {
      LOG.warnf("record journal %s: unreadable checkpoint, reading from the start", dir);
      return 0;
    }
    return pos;
  }

  private void deleteConfirmedSegments() throws IOException {
    for (Map.Entry<Long, Path> seg : segments.entrySet()) {
      Long next = segments.higherKey(seg.getKey());
      if (next == null || next > checkpoint) {
        return; // the active segment, or one with records not yet confirmed
      }
      segments.remove(seg.getKey());
      if (readBase == seg.getKey()) {
        closeReader();
      }
      Files.deleteIfExists(seg.getValue());
    }
  }

  private long countFrom(long from) throws IOException {
    long n = 0;
    long pos = from;
    while (true) {
      Batch b = read(pos, 1024);
      n += b.entries().size();
      if (b.next() == pos) {
        return n;
      }
      pos = b.next();
    }
  }

  /** The position records are confirmed up to. */
  public long checkpoint() {
    return checkpoint;
  }

  /** The logical end of the journal. */
  public long written() {
    return written;
  }

  /** Records appended (this run) or recovered and not yet confirmed. */
  public long backlogRecords() {
    return recovered + appended.get() - confirmed.get();
  }

  /** Bytes after the checkpoint. */
  public long backlogBytes() {
    return written - checkpoint;
  }

  /** Segment files on disk (for tests and diagnostics). */
  public int segmentCount() {
    return segments.size();
  }

  public Path directory() {
    return dir;
  }

  public boolean isOpen() {
    return !closed;
  }

  @Override
  public void close() throws IOException {
    appendLock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      if (fsync) {
        active.force(false);
      }
      active.close();
      closeReader();
      checkpointChannel.close();
      lock.release();
      lockChannel.close();
    } finally {
      appendLock.unlock();
    }
  }
}
