package dev.atelier.worker.service;

import dev.atelier.contracts.StepRequested;
import dev.atelier.kit.timers.Timers;
import dev.atelier.worker.client.BatchRead;
import dev.atelier.worker.client.BatchWrite;
import dev.atelier.worker.client.ContextClient;
import dev.atelier.worker.client.StepLeaseApi;
import dev.atelier.worker.config.WorkerConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.net.InetAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Leases on the step attempts this replica runs, kept in context-service ({@code step_claim}), so
 * that two deliveries of one attempt never pay for its LLM calls twice at once. Each run of a step
 * is its own holder (two deliveries of one attempt can reach this very replica). A run takes its
 * lease with its batch read, keeps it renewed every third of {@code worker.claim-lease} while it
 * runs, and releases it once its result is published; a replica that dies stops renewing, and its
 * leases run out.
 */
@ApplicationScoped
public class StepClaims {

  private static final Logger LOG = Logger.getLogger(StepClaims.class);
  private static final Duration POLL = Duration.ofSeconds(1);

  private final ContextClient context;
  private final Duration lease;
  private final String instance;
  private final AtomicLong runs = new AtomicLong();
  private final Set<Lease> held = ConcurrentHashMap.newKeySet();
  private final Counter waited;
  private final Counter lost;
  private ScheduledExecutorService renewer;

  StepClaims(ContextClient context, WorkerConfig config, MeterRegistry registry) {
    this.context = context;
    this.lease = config.claimLease();
    if (lease.toSeconds() < 3 || lease.toSeconds() > 600) {
      throw new IllegalArgumentException(
          "worker.claim-lease must be from 3 s to 10 min, not " + lease);
    }
    this.instance = host() + "/" + UUID.randomUUID().toString().substring(0, 8);
    this.waited =
        Counter.builder("atelier.worker.step.claims.waited")
            .description(
                "Step deliveries that found their attempt run by another worker and waited for it")
            .register(registry);
    this.lost =
        Counter.builder("atelier.worker.step.claims.lost")
            .description("Leases found taken by another worker at renewal (this one was too slow)")
            .register(registry);
    Gauge.builder("atelier.worker.step.claims.held", held, Set::size)
        .description("Step-attempt leases this replica holds")
        .register(registry);
  }

  private static String host() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException e) {
      return "worker";
    }
  }

  void onStart(@Observes StartupEvent event) {
    renewer = Timers.every("step-claim-renewer", lease.dividedBy(3), this::renewAll);
  }

  void onStop(@Observes ShutdownEvent event) {
    if (renewer != null) {
      renewer.shutdownNow();
    }
  }

  /** A lease for one run of {@code step}, not yet taken. */
  public Lease lease(StepRequested step) {
    return new Lease(step, instance + "/" + runs.incrementAndGet());
  }

  /**
   * How often a run waiting for a lease held elsewhere asks again: each second, under a third of
   * the shortest lease allowed (3 s).
   */
  Duration pollInterval() {
    return POLL;
  }

  void waited() {
    waited.increment();
  }

  /**
   * Renews every lease held, in one request whatever their number, so a slow context-service delays
   * them all by one timeout (3 s), well inside a third of the lease.
   */
  private void renewAll() {
    Map<StepLeaseApi.Lease, Lease> byKey = new HashMap<>();
    for (Lease l : held) {
      byKey.put(new StepLeaseApi.Lease(l.step.workflowId(), l.key(), l.holder), l);
    }
    List<StepLeaseApi.Lease> lostOnes;
    try {
      lostOnes = context.renew(List.copyOf(byKey.keySet()), (int) lease.toSeconds());
    } catch (RuntimeException e) {
      // Tried again at the next renewal, well before the leases run out.
      LOG.debugf("renewing %d lease(s) failed: %s", byKey.size(), e.getMessage());
      return;
    }
    for (StepLeaseApi.Lease gone : lostOnes) {
      Lease l = byKey.get(gone);
      // Not held any more: released meanwhile (its write committed), which is no loss.
      if (l != null && held.remove(l)) {
        l.lost = true;
        lost.increment();
        LOG.warnf(
            "the lease on step %s attempt %d passed to another worker (not renewed in time):"
                + " this run makes no further LLM call",
            l.step.stepId(), l.step.attempt());
      }
    }
  }

  /** One run's lease on its step attempt. */
  public final class Lease {
    private final StepRequested step;
    private final String holder;
    private volatile boolean lost;

    /** Set once the lease was asked for: it may be held, even if the answer never came. */
    private volatile boolean asked;

    /** Set once the outputs' write released it. */
    private volatile boolean released;

    private Lease(StepRequested step, String holder) {
      this.step = step;
      this.holder = holder;
    }

    String key() {
      return step.stepId() + ":" + step.attempt();
    }

    String holder() {
      return holder;
    }

    /** What to ask context-service for: this lease, taken or renewed. */
    BatchRead.Claim claim() {
      asked = true;
      return new BatchRead.Claim(key(), holder, (int) lease.toSeconds());
    }

    /** Asks for the lease on its own (renewing it if held). */
    BatchRead.ClaimState ask() {
      return context.claim(step.workflowId(), claim());
    }

    /** The lease was granted: it is renewed from now on until released. */
    void held() {
      held.add(this);
    }

    /**
     * Throws {@link HeldElsewhere} when the lease passed to another run (this one failed to renew
     * it in time): that run does the work now.
     */
    void checkHeld() {
      if (lost) {
        throw new HeldElsewhere("another worker took over its lease");
      }
    }

    /**
     * The lease, for the batch write of the attempt's outputs to release it with them. No longer
     * renewed from here: {@link #writeFailed} puts it back.
     */
    BatchWrite.Release releaseWithWrite() {
      held.remove(this);
      return new BatchWrite.Release(key(), holder);
    }

    /** The outputs' batch write released the lease: nothing left to release. */
    void releasedWithWrite() {
      released = true;
    }

    /** The outputs' write failed, so the lease is still held: renewed again. */
    void writeFailed() {
      if (!lost) {
        held.add(this);
      }
    }

    /**
     * Releases the lease unless the outputs' write did; best effort (a lease not released runs out
     * by itself). Also when it was asked for and never known to be granted: a read that failed
     * after the grant, or an answer lost on its way.
     */
    public void release() {
      boolean wasHeld = held.remove(this);
      if (released || !(wasHeld || asked)) {
        return;
      }
      try {
        context.release(step.workflowId(), key(), holder);
      } catch (RuntimeException e) {
        LOG.debugf(
            "releasing the lease %s failed (it runs out by itself): %s", key(), e.getMessage());
      }
    }
  }
}
