package dev.atelier.tracking.service;

import dev.atelier.kit.problem.ProblemException;
import dev.atelier.tracking.config.TrackingConfig;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import org.jboss.logging.Logger;

/**
 * The CSV exports running at once, at most {@code TRACKING_EXPORT_CONCURRENCY}, each for at most
 * {@code TRACKING_EXPORT_MAX_DURATION}. An export holds a pooled connection (shared with ingest)
 * and a read transaction (which partition maintenance waits for) for as long as its client reads,
 * so neither how many run nor how long one runs is left to clients.
 *
 * <p>A slot is taken before the answer starts, so a refusal is still a problem (503 {@code
 * export-busy}), and given back when the export ends. At its maximum duration a running export is
 * cut off: its connection is reset, which also ends a write blocked on a client that stopped
 * reading. A slot whose export never started (the answer was never written) is taken back after
 * {@link #START_GRACE}.
 */
@ApplicationScoped
public class ExportSlots {

  private static final Logger LOG = Logger.getLogger(ExportSlots.class);

  /** How long a taken slot may wait for its export to start writing. */
  static final Duration START_GRACE = Duration.ofSeconds(30);

  private final int concurrency;
  private final Duration maxDuration;
  private final LongSupplier nanoTime;
  private final Set<Slot> taken = new HashSet<>();
  private final ScheduledExecutorService cutter =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "csv-export-cutter");
            t.setDaemon(true);
            return t;
          });

  @Inject
  ExportSlots(TrackingConfig config) {
    this(config.export().concurrency(), config.export().maxDuration(), System::nanoTime);
  }

  ExportSlots(int concurrency, Duration maxDuration, LongSupplier nanoTime) {
    this.concurrency = concurrency;
    this.maxDuration = maxDuration;
    this.nanoTime = nanoTime;
  }

  void onStop(@Observes ShutdownEvent event) {
    cutter.shutdownNow();
  }

  /** The longest an export runs. */
  public Duration maxDuration() {
    return maxDuration;
  }

  /**
   * A slot for one export.
   *
   * @throws ProblemException 503 {@code export-busy}, with {@code Retry-After}, when every slot is
   *     taken
   */
  public synchronized Slot take() {
    long now = nanoTime.getAsLong();
    taken.removeIf(s -> !s.started.get() && now - s.takenAt > START_GRACE.toNanos());
    if (taken.size() >= concurrency) {
      throw ProblemException.unavailable(
          "export-busy",
          "at most "
              + concurrency
              + " CSV exports run at once (TRACKING_EXPORT_CONCURRENCY); try again once one has"
              + " ended, or page the JSON list",
          Duration.ofSeconds(5));
    }
    Slot slot = new Slot(now);
    taken.add(slot);
    return slot;
  }

  private synchronized void release(Slot slot) {
    taken.remove(slot);
  }

  /** Slots taken now: exports running, or about to. */
  public synchronized int taken() {
    return taken.size();
  }

  /** One export's slot: {@link #start} when it begins writing, {@link #close} when it ends. */
  public final class Slot implements AutoCloseable {
    private final long takenAt;
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();

    private Slot(long takenAt) {
      this.takenAt = takenAt;
    }

    /**
     * The export begins: past {@code TRACKING_EXPORT_MAX_DURATION} from now, {@code cutOff} is run
     * if it has not ended (it resets the connection, so a blocked write fails and the export ends).
     */
    public void start(Runnable cutOff) {
      started.set(true);
      cutter.schedule(
          () -> {
            if (!closed.get()) {
              LOG.warnf(
                  "a CSV export ran longer than %s (TRACKING_EXPORT_MAX_DURATION); cutting it off",
                  maxDuration);
              cutOff.run();
            }
          },
          maxDuration.toNanos(),
          TimeUnit.NANOSECONDS);
    }

    /**
     * @throws IOException once the export has run for {@code TRACKING_EXPORT_MAX_DURATION}: thrown
     *     between rows, it ends the download incomplete, which the client sees as a failed one
     */
    public void check() throws IOException {
      if (nanoTime.getAsLong() - takenAt > maxDuration.toNanos()) {
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
