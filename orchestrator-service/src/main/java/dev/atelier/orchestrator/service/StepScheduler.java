package dev.atelier.orchestrator.service;

import dev.atelier.kit.timers.Timers;
import dev.atelier.orchestrator.config.OrchestratorConfig;
import dev.atelier.orchestrator.repository.ProcessedEventRepository;
import dev.atelier.orchestrator.repository.StepRepository;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The clock of the state machine: every tick it dispatches retries whose time has come and times
 * out attempts past their deadline. Both live in the database, so they survive a restart, and
 * several replicas can tick together (each workflow is taken with {@code skip locked}).
 */
@ApplicationScoped
public class StepScheduler {

  private static final Logger LOG = Logger.getLogger(StepScheduler.class);
  private static final Duration PURGE_EVERY = Duration.ofMinutes(10);

  private final OrchestratorConfig config;
  private final StepRepository steps;
  private final WorkflowEngine engine;
  private final ProcessedEventRepository processed;
  private ScheduledExecutorService executor;
  private Instant lastPurge = Instant.EPOCH;

  StepScheduler(
      OrchestratorConfig config,
      StepRepository steps,
      WorkflowEngine engine,
      ProcessedEventRepository processed) {
    this.config = config;
    this.steps = steps;
    this.engine = engine;
    this.processed = processed;
  }

  public synchronized void start() {
    if (executor != null) {
      return;
    }
    executor = Timers.every("step-scheduler", config.scheduler().interval(), this::tick);
  }

  void onStop(@Observes ShutdownEvent event) {
    ScheduledExecutorService e;
    synchronized (this) {
      e = executor;
      executor = null;
    }
    if (e != null) {
      e.shutdown();
      try {
        e.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
    }
  }

  void tick() {
    try {
      for (UUID workflowId :
          steps.workflowsWithDueWork(WorkflowEngine.now(), config.scheduler().batchSize())) {
        try {
          engine.processDue(workflowId);
        } catch (RuntimeException e) {
          LOG.warnf(e, "cannot process due steps of workflow %s; will try again", workflowId);
        }
      }
      purgeProcessedEvents();
    } catch (RuntimeException e) {
      // Never let an exception cancel the periodic task.
      LOG.warnf("scheduler tick failed: %s", e.toString());
    } catch (Throwable e) {
      // Nor an Error (out of memory, a class that failed to load): the executor would drop the
      // task silently, and retries and timeouts would stop while readiness still says OK.
      LOG.errorf(e, "scheduler tick failed: %s", e.toString());
    }
  }

  private void purgeProcessedEvents() {
    Instant now = Instant.now();
    if (Duration.between(lastPurge, now).compareTo(PURGE_EVERY) < 0) {
      return;
    }
    lastPurge = now;
    int n = processed.deleteOlderThan(now.minus(config.scheduler().processedEventRetention()));
    if (n > 0) {
      LOG.infof(
          "forgot %d processed event ids older than %s",
          n, config.scheduler().processedEventRetention());
    }
  }
}
