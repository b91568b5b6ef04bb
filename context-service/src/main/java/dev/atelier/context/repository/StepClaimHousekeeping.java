package dev.atelier.context.repository;

import dev.atelier.kit.timers.Timers;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import org.jboss.logging.Logger;

/**
 * Deletes step leases a day after they ran out: their holders died without releasing them. A
 * released lease is deleted at once; every replica runs this, which is harmless.
 */
@ApplicationScoped
public class StepClaimHousekeeping {

  private static final Logger LOG = Logger.getLogger(StepClaimHousekeeping.class);
  static final Duration KEEP_EXPIRED = Duration.ofDays(1);
  private static final Duration EVERY = Duration.ofHours(1);

  private final StepClaimRepository claims;
  private ScheduledExecutorService timer;

  StepClaimHousekeeping(StepClaimRepository claims) {
    this.claims = claims;
  }

  void onStart(@Observes StartupEvent event) {
    timer = Timers.every("step-claim-housekeeping", EVERY, this::deleteExpired);
  }

  void onStop(@Observes ShutdownEvent event) {
    if (timer != null) {
      timer.shutdownNow();
    }
  }

  void deleteExpired() {
    try {
      int n = claims.deleteExpired(KEEP_EXPIRED);
      if (n > 0) {
        LOG.infof("deleted %d step lease(s) that ran out over %s ago", n, KEEP_EXPIRED);
      }
    } catch (RuntimeException e) {
      LOG.warnf(
          "deleting expired step leases failed (tried again in %s): %s", EVERY, e.getMessage());
    }
  }
}
