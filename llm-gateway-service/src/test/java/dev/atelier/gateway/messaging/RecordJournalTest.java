package dev.atelier.gateway.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.atelier.gateway.RecordFixtures;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The record journal on its own: append, read back, recover, torn tails, checkpoints, segments. */
class RecordJournalTest {

  @TempDir Path dir;

  private static byte[] payload(int i) {
    return ("record-" + i).getBytes(StandardCharsets.UTF_8);
  }

  private static List<String> texts(RecordJournal.Batch b) {
    return b.entries().stream().map(e -> new String(e.payload(), StandardCharsets.UTF_8)).toList();
  }

  @Test
  void appendedRecordsAreReadBackInOrderAndInBatches() throws IOException {
    try (RecordJournal j = RecordJournal.open(dir, 1 << 20, false)) {
      long end = 0;
      for (int i = 0; i < 5; i++) {
        end = j.append(RecordJournal.frame(payload(i)));
      }
      assertThat(end).isEqualTo(j.written());
      RecordJournal.Batch first = j.read(j.checkpoint(), 3);
      assertThat(texts(first)).containsExactly("record-0", "record-1", "record-2");
      RecordJournal.Batch rest = j.read(first.next(), 10);
      assertThat(texts(rest)).containsExactly("record-3", "record-4");
      assertThat(rest.next()).isEqualTo(end);
      assertThat(j.read(rest.next(), 10).entries()).isEmpty();
      assertThat(j.backlogRecords()).isEqualTo(5);
      assertThat(j.backlogBytes()).isEqualTo(end);
    }
  }

  @Test
  void recordsAfterTheCheckpointAreReadAgainAfterARestart() throws IOException {
    long confirmedUpTo;
    try (RecordJournal j = RecordJournal.open(dir, 1 << 20, false)) {
      for (int i = 0; i < 4; i++) {
        j.append(RecordJournal.frame(payload(i)));
      }
      RecordJournal.Batch two = j.read(j.checkpoint(), 2);
      j.checkpoint(two.next(), 2);
      confirmedUpTo = two.next();
      assertThat(j.backlogRecords()).isEqualTo(2);
    }
    try (RecordJournal j = RecordJournal.open(dir, 1 << 20, false)) {
      assertThat(j.checkpoint()).isEqualTo(confirmedUpTo);
      assertThat(j.backlogRecords()).isEqualTo(2);
      RecordJournal.Batch again = j.read(j.checkpoint(), 10);
      assertThat(texts(again)).containsExactly("record-2", "record-3");
      // New records go to a new segment, after the recovered ones.
      j.append(RecordJournal.frame(payload(4)));
      assertThat(texts(j.read(again.next(), 10))).containsExactly("record-4");
    }
  }

  @Test
  void aTornLastRecordIsSkippedAndLaterRecordsStillRead() throws IOException {
    try (RecordJournal j = RecordJournal.open(dir, 1 << 20, false)) {
      j.append(RecordJournal.frame(payload(0)));
      j.append(RecordJournal.frame(payload(1)));
    }
    Path segment = segments().get(segments().size() - 1);
    // A kill in the middle of a write: the next frame's header and half its payload.
    byte[] frame = RecordJournal.frame(payload(2));
    Files.write(segment, java.util.Arrays.copyOf(frame, 12), StandardOpenOption.APPEND);
    try (RecordJournal j = RecordJournal.open(dir, 1 << 20, false)) {
      assertThat(j.backlogRecords()).isEqualTo(2);
      j.append(RecordJournal.frame(payload(3)));
      RecordJournal.Batch all = j.read(j.checkpoint(), 10);
      assertThat(texts(all)).containsExactly("record-0", "record-1", "record-3");
    }
  }

  /**
   * A write the disk refuses part-way (ENOSPC after some bytes) fails that append only: the next
   * append overwrites the partial bytes, so nothing written after it is misplaced, read as a torn
   * record, or skipped at the next start.
   */
  @Test
  void aWriteThatFailsPartWayLosesNoLaterRecord() throws IOException {
    FailingWrites disk = new FailingWrites();
    try (RecordJournal j = RecordJournal.open(dir, 1 << 20, false, disk::open)) {
      j.append(RecordJournal.frame(payload(0)));
      disk.failNextWriteAfter(5);
      long before = j.written();
      assertThatThrownBy(() -> j.append(RecordJournal.frame(payload(1))))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("No space left");
      assertThat(j.written()).isEqualTo(before);
      j.append(RecordJournal.frame(payload(2)));
      j.append(RecordJournal.frame(payload(3)));
      assertThat(texts(j.read(j.checkpoint(), 10)))
          .containsExactly("record-0", "record-2", "record-3");
    }
    try (RecordJournal j = RecordJournal.open(dir, 1 << 20, false)) {
      assertThat(texts(j.read(j.checkpoint(), 10)))
          .containsExactly("record-0", "record-2", "record-3");
    }
  }

  /** Segment files whose next write can be made to stop part-way with a disk-full error. */
  private static final class FailingWrites {
    private int failAfter = -1;

    void failNextWriteAfter(int bytes) {
      failAfter = bytes;
    }

    FileChannel open(Path file) throws IOException {
      FileChannel real =
          FileChannel.open(
              file,
              StandardOpenOption.CREATE,
              StandardOpenOption.WRITE,
              StandardOpenOption.TRUNCATE_EXISTING);
      return new DelegatingChannel(real) {
        @Override
        public int write(ByteBuffer src) throws IOException {
          return partial(src, () -> real.write(src));
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
          return partial(src, () -> real.write(src, position));
        }
      };
    }

    private int partial(ByteBuffer src, IoWrite write) throws IOException {
      if (failAfter < 0) {
        return write.run();
      }
      int bytes = failAfter;
      failAfter = -1;
      src.limit(src.position() + bytes);
      write.run();
      throw new IOException("No space left on device");
    }
  }

  @FunctionalInterface
  private interface IoWrite {
    int run() throws IOException;
  }

  /** A FileChannel that passes everything to another. */
  private static class DelegatingChannel extends FileChannel {
    private final FileChannel real;

    DelegatingChannel(FileChannel real) {
      this.real = real;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      return real.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
      return real.read(dsts, offset, length);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      return real.write(src);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
      return real.write(srcs, offset, length);
    }

    @Override
    public long position() throws IOException {
      return real.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
      real.position(newPosition);
      return this;
    }

    @Override
    public long size() throws IOException {
      return real.size();
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
      real.truncate(size);
      return this;
    }

    @Override
    public void force(boolean metaData) throws IOException {
      real.force(metaData);
    }

    @Override
    public long transferTo(long position, long count, java.nio.channels.WritableByteChannel target)
        throws IOException {
      return real.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(java.nio.channels.ReadableByteChannel src, long position, long count)
        throws IOException {
      return real.transferFrom(src, position, count);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      return real.read(dst, position);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
      return real.write(src, position);
    }

    @Override
    public java.nio.MappedByteBuffer map(MapMode mode, long position, long size)
        throws IOException {
      return real.map(mode, position, size);
    }

    @Override
    public java.nio.channels.FileLock lock(long position, long size, boolean shared)
        throws IOException {
      return real.lock(position, size, shared);
    }

    @Override
    public java.nio.channels.FileLock tryLock(long position, long size, boolean shared)
        throws IOException {
      return real.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
      real.close();
    }
  }

  @Test
  void aRecordWithABadCrcEndsItsSegment() throws IOException {
    try (RecordJournal j = RecordJournal.open(dir, 1 << 20, false)) {
      j.append(RecordJournal.frame(payload(0)));
      j.append(RecordJournal.frame(payload(1)));
    }
    Path segment = segments().get(0);
    long second = RecordJournal.frame(payload(0)).length;
    try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {'X'}), second + 8); // flip a payload byte
    }
    try (RecordJournal j = RecordJournal.open(dir, 1 << 20, false)) {
      RecordJournal.Batch read = j.read(j.checkpoint(), 10);
      assertThat(texts(read)).containsExactly("record-0");
      assertThat(read.next()).isEqualTo(j.written());
      // Past the torn tail, the checkpoint can move on: the next start does not warn again.
      j.checkpoint(read.next(), 1);
      assertThat(j.backlogRecords()).isZero();
    }
  }

  @Test
  void segmentsRollAtTheSizeLimitAndConfirmedOnesAreDeleted() throws IOException {
    int frame = RecordJournal.frame(payload(0)).length;
    try (RecordJournal j = RecordJournal.open(dir, frame * 3L, false)) {
      for (int i = 0; i < 8; i++) {
        j.append(RecordJournal.frame(payload(i)));
      }
      assertThat(segments()).hasSize(3); // 3 + 3 + 2 records
      RecordJournal.Batch four = j.read(j.checkpoint(), 4);
      assertThat(texts(four)).containsExactly("record-0", "record-1", "record-2", "record-3");
      j.checkpoint(four.next(), 4);
      assertThat(segments()).hasSize(2); // the first is wholly confirmed
      RecordJournal.Batch rest = j.read(four.next(), 10);
      assertThat(texts(rest)).containsExactly("record-4", "record-5", "record-6", "record-7");
      j.checkpoint(rest.next(), 4);
      // The active segment stays, even when all its records are confirmed.
      assertThat(segments()).hasSize(1);
      assertThat(j.backlogRecords()).isZero();
      assertThat(j.backlogBytes()).isZero();
    }
    try (RecordJournal j = RecordJournal.open(dir, frame * 3L, false)) {
      assertThat(j.read(j.checkpoint(), 10).entries()).isEmpty();
    }
  }

  @Test
  void aSecondOpenOfTheSameDirectoryFailsFast() throws IOException {
    try (RecordJournal j = RecordJournal.open(dir, 1 << 20, false)) {
      assertThatThrownBy(() -> RecordJournal.open(dir, 1 << 20, false))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("in use by another gateway process")
          .hasMessageContaining("GATEWAY_RECORDS_JOURNAL_DIR");
      assertThat(j.isOpen()).isTrue();
    }
    // Released on close.
    RecordJournal.open(dir, 1 << 20, false).close();
  }

  @Test
  void withFsyncConcurrentAppendsAreAllKept() throws Exception {
    try (RecordJournal j = RecordJournal.open(dir, 1024, true)) {
      Thread[] threads = new Thread[4];
      for (int t = 0; t < threads.length; t++) {
        int base = t * 100;
        threads[t] =
            new Thread(
                () -> {
                  for (int i = 0; i < 50; i++) {
                    try {
                      j.append(RecordJournal.frame(payload(base + i)));
                    } catch (IOException e) {
                      throw new IllegalStateException(e);
                    }
                  }
                });
        threads[t].start();
      }
      for (Thread t : threads) {
        t.join();
      }
      List<String> all = texts(j.read(j.checkpoint(), 1000));
      assertThat(all).hasSize(200).doesNotHaveDuplicates();
      assertThat(segments().size()).isGreaterThan(1);
    }
  }

  @Test
  void journaledRecordKeepsTheEncodedEventAndItsTraceHeaders() {
    dev.atelier.contracts.LlmCallRecorded event = RecordFixtures.event(UUID.randomUUID());
    Map<String, String> trace =
        Map.of("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    JournaledRecord r = JournaledRecord.decode(JournaledRecord.encode(event, trace));
    assertThat(r.eventId()).isEqualTo(event.eventId());
    assertThat(r.occurredAt()).isEqualTo(event.occurredAt());
    assertThat(r.workflowId()).isEqualTo(event.workflowId());
    assertThat(r.traceHeaders()).isEqualTo(trace);
    assertThat(
            dev.atelier.contracts.EventCodec.read(
                r.body(), dev.atelier.contracts.LlmCallRecorded.class))
        .isEqualTo(event);
  }

  private List<Path> segments() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.toString().endsWith(".journal")).sorted().toList();
    }
  }
}
