package dev.atelier.gateway.messaging;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import org.jboss.logging.Logger;

/**
 * Marks that outlive this process when it is killed, for the next process on the same (locked)
 * journal directory to act on: the calls that went to a provider and have no record in the {@link
 * RecordJournal} yet, each with the record to make of it (a provider bills a request it received
 * whether or not the gateway lives to read the answer); the Idempotency-Keys this process holds for
 * calls it is making, for the next one to let go of.
 *
 * <p>A mark is a slot of a memory-mapped file ({@code <name>.slots} in the directory), framed
 * {@code [int length][int CRC32][payload]}: marking writes the payload, then its CRC, then its
 * length; clearing writes a length of 0. These are memory writes, no system call, and the mapping
 * is the page cache, so a killed process leaves every mark it had not cleared in the file. Free
 * slots are taken last-in first-out, so only as many pages are touched as marks are held at once. A
 * payload larger than a slot, or a mark made while every slot is taken, is written to its own file
 * in {@code <name>/} instead (a file system call to create it, one to delete it).
 *
 * <p>{@link #leftovers} reads what an earlier process left, torn or foreign frames skipped; {@link
 * #forgetLeftovers} clears them once they are acted on.
 */
final class MarkFile implements Closeable {

  private static final Logger LOG = Logger.getLogger(MarkFile.class);
  static final String IN_FLIGHT = "in-flight";
  private static final String SLOTS_SUFFIX = ".slots";
  private static final String OVERFLOW_SUFFIX = ".call";
  private static final int HEADER = 8;

  private final Path overflow;
  private final int slotBytes;
  private final FileChannel channel;
  private final MappedByteBuffer table;
  private final ConcurrentLinkedDeque<Integer> free = new ConcurrentLinkedDeque<>();
  private final AtomicInteger marked = new AtomicInteger();
  private volatile boolean closed;

  private MarkFile(Path dir, String name, int slots, int slotBytes) throws IOException {
    this.slotBytes = slotBytes;
    this.overflow = dir.resolve(name);
    Files.createDirectories(overflow);
    this.channel =
        FileChannel.open(
            slotsFile(dir, name),
            StandardOpenOption.CREATE,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE);
    long size = (long) slots * slotBytes;
    if (channel.size() > size) {
      // Fewer slots than an earlier run: the rest stays mapped for leftovers() to read.
      size = channel.size() - channel.size() % slotBytes;
    }
    this.table = channel.map(FileChannel.MapMode.READ_WRITE, 0, size);
    for (int i = slots - 1; i >= 0; i--) {
      free.push(i);
    }
  }

  /**
   * Opens the marks {@code name} in {@code dir} (the journal's own, locked, directory).
   *
   * @param slots marks held at once without a file of their own
   * @param slotBytes bytes per slot, header included
   */
  static MarkFile open(Path dir, String name, int slots, int slotBytes) {
    if (slots < 1 || slotBytes <= HEADER) {
      throw new IllegalArgumentException("slots must be positive and larger than " + HEADER);
    }
    try {
      return new MarkFile(dir, name, slots, slotBytes);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the marks " + name + " in " + dir, e);
    }
  }

  /** The file of the slots of marks {@code name}. */
  static Path slotsFile(Path dir, String name) {
    return dir.resolve(name + SLOTS_SUFFIX);
  }

  /** Marks made and not cleared. */
  int marked() {
    return marked.get();
  }

  /**
   * Marks {@code payload}, for the next process to find should this one die before {@link
   * CallMark#clear} is called. Never blocks on the disk unless the payload does not fit a slot.
   *
   * @param id names the mark's own file, if it needs one
   */
  CallMark mark(UUID id, byte[] payload) {
    if (closed) {
      return CallMark.NONE;
    }
    Integer slot = payload.length + HEADER <= slotBytes ? free.poll() : null;
    CallMark m = slot != null ? inSlot(slot, payload) : inFile(id, payload);
    marked.incrementAndGet();
    return m;
  }

  private CallMark inSlot(int slot, byte[] payload) {
    int at = slot * slotBytes;
    CRC32 crc = new CRC32();
    crc.update(payload);
    table.put(at + HEADER, payload);
    table.putInt(at + 4, (int) crc.getValue());
    table.putInt(at, payload.length); // last: a kill before it leaves the slot empty
    AtomicBoolean cleared = new AtomicBoolean();
    return () -> {
      if (cleared.compareAndSet(false, true)) {
        table.putInt(at, 0);
        marked.decrementAndGet();
        free.push(slot);
      }
    };
  }

  private CallMark inFile(UUID id, byte[] payload) {
    Path file = overflow.resolve(id + OVERFLOW_SUFFIX);
    try {
      Path partial = overflow.resolve(id + ".partial");
      // Framed as a slot is: a machine crash can leave a renamed file empty or short.
      CRC32 crc = new CRC32();
      crc.update(payload);
      ByteBuffer framed = ByteBuffer.allocate(HEADER + payload.length);
      framed.putInt(payload.length).putInt((int) crc.getValue()).put(payload);
      Files.write(partial, framed.array());
      Files.move(partial, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      // The call goes ahead: a mark only matters if this process dies during it.
      LOG.warnf("cannot mark %s in %s (%s); a kill now would leave it unmarked", id, overflow, e);
      return () -> marked.decrementAndGet();
    }
    AtomicBoolean cleared = new AtomicBoolean();
    return () -> {
      if (cleared.compareAndSet(false, true)) {
        marked.decrementAndGet();
        try {
          Files.deleteIfExists(file);
        } catch (IOException e) {
          LOG.warnf("cannot clear the mark %s: %s", file, e);
        }
      }
    };
  }

  /** The payloads of the marks an earlier process left. Call before the first {@link #mark}. */
  List<byte[]> leftovers() throws IOException {
    List<byte[]> found = new ArrayList<>();
    int count = table.capacity() / slotBytes;
    for (int i = 0; i < count; i++) {
      int at = i * slotBytes;
      int length = table.getInt(at);
      if (length == 0) {
        continue;
      }
      if (length < 0 || length > slotBytes - HEADER) {
        LOG.warnf("slot %d of %s holds a torn frame (length %d); skipped", i, overflow, length);
        continue;
      }
      byte[] payload = new byte[length];
      table.get(at + HEADER, payload);
      CRC32 crc = new CRC32();
      crc.update(payload);
      if ((int) crc.getValue() != table.getInt(at + 4)) {
        LOG.warnf("slot %d of %s holds a torn frame (bad CRC); skipped", i, overflow);
        continue;
      }
      found.add(payload);
    }
    try (Stream<Path> files = Files.list(overflow)) {
      for (Path f : files.filter(p -> p.toString().endsWith(OVERFLOW_SUFFIX)).toList()) {
        ByteBuffer framed = ByteBuffer.wrap(Files.readAllBytes(f));
        int length = framed.remaining() >= HEADER ? framed.getInt() : -1;
        if (length < 0 || length != framed.remaining() - 4) {
          LOG.warnf("mark %s is torn (%d bytes); skipped", f, framed.capacity());
          continue;
        }
        int expected = framed.getInt();
        byte[] payload = new byte[length];
        framed.get(payload);
        CRC32 crc = new CRC32();
        crc.update(payload);
        if ((int) crc.getValue() != expected) {
          LOG.warnf("mark %s is torn (bad CRC); skipped", f);
          continue;
        }
        found.add(payload);
      }
    }
    return found;
  }

  /** Clears what {@link #leftovers} returned, once it is acted on. Call before the first mark. */
  void forgetLeftovers() throws IOException {
    int count = table.capacity() / slotBytes;
    for (int i = 0; i < count; i++) {
      if (table.getInt(i * slotBytes) != 0) {
        table.putInt(i * slotBytes, 0); // only slots in use: a write would allocate the page
      }
    }
    try (Stream<Path> files = Files.list(overflow)) {
      for (Path f : files.toList()) {
        Files.deleteIfExists(f);
      }
    }
  }

  @Override
  public void close() throws IOException {
    closed = true;
    channel.close();
  }
}
