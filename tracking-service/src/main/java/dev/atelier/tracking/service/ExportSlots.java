package dev.atelier.tracking.service;

import dev.atelier.kit.problem.ProblemException;
import dev.atelier.tracking.config.TrackingConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * The CSV exports running at once, at most {@code TRACKING_EXPORT_CONCURRENCY}, each for at most
 * {@code TRACKING_EXPORT_MAX_DURATION}. An export holds a pooled connection (shared with ingest)
 * and a read transaction (which partition maintenance waits for) for as long as its client reads,
 * so neither how many run nor how long one runs is left to clients.
 *
 * <p>A slot is taken before the answer starts, so a refusal is still a 429 problem, and given back
 * when the export ends; one whose export never ran (the answer was never written) is taken back
 * once its time is up.
 */
@ApplicationScoped
public class ExportSlots {

  private final int concurrency;
  private final Duration maxDuration;
  private final LongSupplier nanoTime;
  private final Set<Slot> running = new HashSet<>();

  @Inject
  ExportSlots(TrackingConfig config) {
    this(config.export().concurrency(), config.export().maxDuration(), System::nanoTime);
  }

  ExportSlots(int concurrency, Duration maxDuration, LongSupplier nanoTime) {
    this.concurrency = concurrency;
    this.maxDuration = maxDuration;
    this.nanoTime = nanoTime;
  }

  /**
   * A slot for one export.
   *
   * @throws ProblemException 429 {@code export-busy}, with {@code Retry-After}, when every slot is
   *     taken
   */
  public synchronized Slot take() {
    long now = nanoTime.getAsLong();
    running.removeIf(s -> now - s.deadline > 0);
    if (running.size() >= concurrency) {
      throw ProblemException.tooManyRequests(
          "export-busy",
          "at most "
              + concurrency
              + " CSV exports run at once (TRACKING_EXPORT_CONCURRENCY); try again once one has"
              + " ended, or page the JSON list",
          Duration.ofSeconds(5));
    }
    Slot slot = new Slot(now + maxDuration.toNanos());
    running.add(slot);
    return slot;
  }

  private synchronized void release(Slot slot) {
    running.remove(slot);
  }

  /** One export's slot: {@link #check} between rows, {@link #close} when it ends. */
  public final class Slot implements AutoCloseable {
    private final long deadline;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Slot(long deadline) {
      this.deadline = deadline;
    }

    /**
     * @throws IOException once the export has run for {@code TRACKING_EXPORT_MAX_DURATION}: thrown
     *     from the writer, it ends the download incomplete, which the client sees as a failed one
     */
    public void check() throws IOException {
      if (nanoTime.getAsLong() - deadline > 0) {
        throw new IOException(
            "the export ran longer than "
                + maxDuration
                + " (TRACKING_EXPORT_MAX_DURATION); cut off");
      }
    }

    @Override
    public void close() {
      if (closed.compareAndSet(false, true)) {
        release(this);
      }
    }
  }
}
