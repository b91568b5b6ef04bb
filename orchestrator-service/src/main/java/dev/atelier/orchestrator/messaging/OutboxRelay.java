package dev.atelier.orchestrator.messaging;

import dev.atelier.orchestrator.config.OrchestratorConfig;
import dev.atelier.orchestrator.repository.OutboxRepository.Written;
import io.opentelemetry.context.Context;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * The thread that drains the outbox. Rows this process committed are handed to it in memory and
 * published at once, without reading them back ({@link OutboxPublisher#publishHandedOff}); a poll
 * every {@code poll-interval} publishes the rest: rows whose hand-off grace has passed (written by
 * a process that died before publishing them, or refused by the broker) and rows waiting for a
 * retry. Without a hand-off grace every commit wakes the poll instead.
 */
@ApplicationScoped
public class OutboxRelay {

  private static final Logger LOG = Logger.getLogger(OutboxRelay.class);

  /** A committed row and the trace context of the work that wrote it. */
  public record HandedOff(Written row, Context context) {}

  private final OutboxPublisher publisher;
  private final OrchestratorConfig config;
  private final Semaphore signal = new Semaphore(0);
  private final BlockingQueue<HandedOff> handedOff;
  private final AtomicLong overflowed = new AtomicLong();
  private volatile boolean running;
  private volatile boolean pollNow;
  private Thread thread;

  OutboxRelay(OutboxPublisher publisher, OrchestratorConfig config) {
    this.publisher = publisher;
    this.config = config;
    if (config.outbox().handoffGrace().isNegative()) {
      throw new IllegalArgumentException(
          "orchestrator.outbox.handoff-grace must be 0 (no hand-off) or more, not "
              + config.outbox().handoffGrace());
    }
    if (config.outbox().handoffCapacity() < 1) {
      throw new IllegalArgumentException(
          "orchestrator.outbox.handoff-capacity must be at least 1, not "
              + config.outbox().handoffCapacity());
    }
    this.handedOff = new LinkedBlockingQueue<>(config.outbox().handoffCapacity());
  }

  public synchronized void start() {
    if (thread != null) {
      return;
    }
    running = true;
    thread = new Thread(this::run, "outbox-relay");
    thread.setDaemon(true);
    thread.start();
  }

  /** Asks the relay to poll the outbox now. */
  public void wake() {
    pollNow = true;
    signal.release();
  }

  /**
   * Gives the relay rows that have just committed. Rows beyond its capacity are left to the poll,
   * which publishes them once their grace has passed.
   */
  public void handOff(List<HandedOff> rows) {
    int refused = 0;
    for (HandedOff row : rows) {
      if (!handedOff.offer(row)) {
        refused++;
      }
    }
    if (refused > 0 && overflowed.getAndAdd(refused) == 0) {
      LOG.warnf(
          "outbox relay: %d row(s) handed off beyond its capacity of %d; they go out with the poll"
              + " once their hand-off grace has passed (logged once)",
          refused, config.outbox().handoffCapacity());
    }
    signal.release();
  }

  /** Forgets the rows of this type for the workflow that were handed off and not yet taken. */
  public void forget(UUID workflowId, String eventType) {
    handedOff.removeIf(
        h ->
            workflowId.equals(h.row().encoded().workflowId())
                && eventType.equals(h.row().encoded().type()));
  }

  /** Rows handed off and not yet taken by the relay. */
  public int handedOffWaiting() {
    return handedOff.size();
  }

  void onStop(@Observes ShutdownEvent event) {
    Thread t;
    synchronized (this) {
      running = false;
      t = thread;
      thread = null;
    }
    if (t != null) {
      signal.release();
      try {
        t.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void run() {
    int batchSize = config.outbox().batchSize();
    long pollNanos = config.outbox().pollInterval().toNanos();
    long nextPoll = System.nanoTime();
    while (running) {
      try {
        publishHandedOff(batchSize);
        if (pollNow || System.nanoTime() - nextPoll >= 0) {
          pollNow = false;
          nextPoll = System.nanoTime() + pollNanos;
          int n;
          do {
            n = publisher.publishDue(batchSize);
          } while (running && n >= batchSize);
        }
      } catch (RuntimeException e) {
        LOG.warnf("outbox relay: %s; trying again shortly", e.toString());
      }
      try {
        long wait = Math.max(0, nextPoll - System.nanoTime());
        if (handedOff.isEmpty()) {
          signal.tryAcquire(wait, TimeUnit.NANOSECONDS);
        }
        signal.drainPermits();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private void publishHandedOff(int batchSize) {
    List<HandedOff> batch = new ArrayList<>(batchSize);
    while (running && handedOff.drainTo(batch, batchSize) > 0) {
      publisher.publishHandedOff(batch);
      batch.clear();
    }
  }
}
