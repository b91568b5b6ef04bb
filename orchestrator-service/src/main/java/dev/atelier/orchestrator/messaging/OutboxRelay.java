package dev.atelier.orchestrator.messaging;

import dev.atelier.orchestrator.config.OrchestratorConfig;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The thread that drains the outbox: woken right after a transaction that wrote rows commits, and
 * polling in between (rows written by other replicas, rows waiting for a retry).
 */
@ApplicationScoped
public class OutboxRelay {

  private static final Logger LOG = Logger.getLogger(OutboxRelay.class);

  private final OutboxPublisher publisher;
  private final OrchestratorConfig config;
  private final Semaphore signal = new Semaphore(0);
  private volatile boolean running;
  private Thread thread;

  OutboxRelay(OutboxPublisher publisher, OrchestratorConfig config) {
    this.publisher = publisher;
    this.config = config;
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

  /** Asks the relay to look at the outbox now. */
  public void wake() {
    signal.release();
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
    long pollMillis = config.outbox().pollInterval().toMillis();
    while (running) {
      try {
        int n;
        do {
          n = publisher.publishDue(batchSize);
        } while (running && n >= batchSize);
      } catch (RuntimeException e) {
        LOG.warnf("outbox relay: %s; trying again shortly", e.toString());
      } catch (Throwable e) {
        // An Error (out of memory, a class that failed to load) would end this thread for good,
        // and nothing would be published while readiness still says OK: keep going after a pause.
        LOG.errorf(e, "outbox relay: %s; trying again shortly", e.toString());
      }
      try {
        signal.tryAcquire(pollMillis, TimeUnit.MILLISECONDS);
        signal.drainPermits();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
