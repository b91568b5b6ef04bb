package dev.atelier.gateway.messaging;

import dev.atelier.gateway.RecordFixtures;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Request-path cost of journaling one call record, run by hand (not a test):
 *
 * <pre>
 * java -cp "target/test-classes:target/classes:$(cat target/bench.classpath)" \
 *   dev.atelier.gateway.messaging.RecordJournalBench [dir]
 * </pre>
 *
 * Prints the mean time per record of: encoding it (JSON + journal header), marking a call as in
 * flight and clearing the mark ({@link MarkFile}, a slot and a file of its own), appending it under
 * the journal's lock (1 and 4 threads, fsync off and on), and handing it to a writer thread that
 * group-commits and completes a future the caller waits for (the alternative to the lock).
 */
public final class RecordJournalBench {

  private RecordJournalBench() {}

  public static void main(String[] args) throws Exception {
    Path root = Path.of(args.length > 0 ? args[0] : "target/journal-bench");
    var event = RecordFixtures.event(UUID.randomUUID());
    Map<String, String> trace =
        Map.of("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    int n = 100_000;
    for (int round = 0; round < 2; round++) { // the first round warms up the JIT
      byte[][] last = new byte[1][];
      long enc =
          run(1, n, () -> last[0] = RecordJournal.frame(JournaledRecord.encode(event, trace)));
      byte[] framed = last[0];
      report(round, "encode + frame (" + framed.length + " B)", 1, n, enc);
      MarkFile slots =
          MarkFile.open(
              Files.createDirectories(root.resolve("slots-" + round)),
              MarkFile.IN_FLIGHT,
              4096,
              2048);
      // Slots too small for any record: every mark takes a file.
      MarkFile files =
          MarkFile.open(
              Files.createDirectories(root.resolve("files-" + round)), MarkFile.IN_FLIGHT, 1, 16);
      byte[] payload = JournaledRecord.encode(event, trace);
      UUID id = UUID.randomUUID();
      for (int threads : new int[] {1, 4}) {
        report(
            round,
            "mark + clear, slot",
            threads,
            n,
            run(threads, n, () -> slots.mark(id, payload).clear()));
      }
      report(
          round,
          "mark + clear, file",
          1,
          n / 10,
          run(1, n / 10, () -> files.mark(UUID.randomUUID(), payload).clear()));
      for (int threads : new int[] {1, 4}) {
        report(round, "append, lock, no fsync", threads, n, lock(root, framed, threads, n, false));
        report(round, "append, writer thread", threads, n, writerThread(root, framed, threads, n));
      }
    }
    int m = 2_000;
    for (int threads : new int[] {1, 4}) {
      report(
          1,
          "append, lock, fsync (group commit)",
          threads,
          m,
          lock(root, framed0(), threads, m, true));
    }
  }

  private static byte[] framed0() {
    return RecordJournal.frame(
        JournaledRecord.encode(RecordFixtures.event(UUID.randomUUID()), Map.of()));
  }

  private static void report(int round, String what, int threads, int n, long nanos) {
    if (round == 1) {
      // wall time per record, and the mean time one caller spends per record
      System.out.printf(
          "%-36s threads %d: %8.2f us/record wall, %8.2f us per caller, caller CPU %6.2f us/record"
              + " (%d records)%n",
          what,
          threads,
          nanos / 1000.0 / n,
          nanos * threads / 1000.0 / n,
          CALLER_CPU.get() / 1000.0 / n,
          n);
    }
  }

  private static long lock(Path root, byte[] framed, int threads, int n, boolean fsync)
      throws Exception {
    Path dir = fresh(root);
    try (RecordJournal j = RecordJournal.open(dir, 64L << 20, fsync)) {
      return runAndDelete(
          dir,
          threads,
          n,
          () -> {
            try {
              j.append(framed);
            } catch (IOException e) {
              throw new IllegalStateException(e);
            }
          });
    }
  }

  /** The alternative: callers enqueue and wait; one thread writes what is queued in one go. */
  private static long writerThread(Path root, byte[] framed, int threads, int n) throws Exception {
    Path dir = fresh(root);
    record Pending(byte[] bytes, CompletableFuture<Void> done) {}
    BlockingQueue<Pending> queue = new ArrayBlockingQueue<>(4096);
    try (FileChannel ch =
        FileChannel.open(
            Files.createDirectories(dir).resolve("w.journal"),
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE)) {
      Thread writer =
          new Thread(
              () -> {
                List<Pending> batch = new ArrayList<>();
                try {
                  while (!Thread.currentThread().isInterrupted()) {
                    Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
                    if (first == null) {
                      continue;
                    }
                    batch.add(first);
                    queue.drainTo(batch);
                    ByteBuffer[] bufs = new ByteBuffer[batch.size()];
                    for (int i = 0; i < bufs.length; i++) {
                      bufs[i] = ByteBuffer.wrap(batch.get(i).bytes());
                    }
                    ch.write(bufs);
                    batch.forEach(p -> p.done().complete(null));
                    batch.clear();
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                } catch (IOException e) {
                  throw new IllegalStateException(e);
                }
              });
      writer.start();
      long nanos =
          runAndDelete(
              dir,
              threads,
              n,
              () -> {
                CompletableFuture<Void> done = new CompletableFuture<>();
                try {
                  queue.put(new Pending(framed, done));
                } catch (InterruptedException e) {
                  throw new IllegalStateException(e);
                }
                done.join();
              });
      writer.interrupt();
      writer.join();
      return nanos;
    }
  }

  /** CPU time the callers spent in the last {@link #run}, summed over its threads. */
  private static final java.util.concurrent.atomic.AtomicLong CALLER_CPU =
      new java.util.concurrent.atomic.AtomicLong();

  /** Wall time of {@code n} operations spread over {@code threads}. */
  private static long run(int threads, int n, Runnable op) throws InterruptedException {
    Thread[] ts = new Thread[threads];
    int each = n / threads;
    CALLER_CPU.set(0);
    var mx = java.lang.management.ManagementFactory.getThreadMXBean();
    long t0 = System.nanoTime();
    for (int t = 0; t < threads; t++) {
      ts[t] =
          new Thread(
              () -> {
                long cpu0 = mx.getCurrentThreadCpuTime();
                for (int i = 0; i < each; i++) {
                  op.run();
                }
                CALLER_CPU.addAndGet(mx.getCurrentThreadCpuTime() - cpu0);
              });
      ts[t].start();
    }
    for (Thread t : ts) {
      t.join();
    }
    return System.nanoTime() - t0;
  }

  private static long runAndDelete(Path dir, int threads, int n, Runnable op)
      throws InterruptedException, IOException {
    try {
      return run(threads, n, op);
    } finally {
      try (var files = Files.list(dir)) {
        for (Path p : files.toList()) {
          if (p.toString().endsWith(".journal")) {
            Files.delete(p);
          }
        }
      }
    }
  }

  private static Path fresh(Path root) throws IOException {
    Path dir = root.resolve(UUID.randomUUID().toString());
    Files.createDirectories(dir);
    return dir;
  }
}
