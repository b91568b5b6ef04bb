package dev.atelier.gateway.budget;

import dev.atelier.gateway.config.GatewayConfig;
import dev.atelier.gateway.service.GatewayException;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jboss.logging.Logger;

/**
 * Enforces budgets: reserves a call's worst-case cost before it is sent and settles it with the
 * actual cost afterwards.
 *
 * <p>Rule: a call is admitted by a hard budget only when {@code spent + reserved + worst case <=
 * limit}, checked and reserved in one conditional UPDATE under the row lock (see {@link
 * BudgetRepository#reserve}). So however many calls run at once, on however many replicas, the
 * admitted worst cases together fit under the limit; spent can pass the limit only by what calls
 * cost beyond their reservation (a provider that ignores {@code max_tokens}).
 *
 * <p>Which teams and workflows have a budget is cached per replica and re-read every {@code
 * gateway.budgets.refresh-interval}, so calls without a budget never wait on the database.
 */
@ApplicationScoped
public class BudgetService {

  /** Error code of a call a budget rejected. */
  public static final String BUDGET_EXCEEDED = "budget_exceeded";

  private static final Logger LOG = Logger.getLogger(BudgetService.class);

  private final BudgetRepository repository;
  private final GatewayConfig.Budgets config;
  private final MeterRegistry registry;
  private final Map<String, AtomicReference<Double>> remaining = new ConcurrentHashMap<>();
  private volatile Set<String> budgeted = Set.of();
  private ScheduledExecutorService scheduler;

  BudgetService(BudgetRepository repository, GatewayConfig config, MeterRegistry registry) {
    this.repository = repository;
    this.config = config.budgets();
    this.registry = registry;
  }

  void onStart(@Observes StartupEvent event) {
    refresh();
    scheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "budget-refresher");
              t.setDaemon(true);
              return t;
            });
    long every = config.refreshInterval().toMillis();
    scheduler.scheduleWithFixedDelay(this::housekeeping, every, every, TimeUnit.MILLISECONDS);
  }

  void onStop(@Observes ShutdownEvent event) {
    if (scheduler != null) {
      scheduler.shutdownNow();
    }
  }

  /** True when a budget may apply to the call (cheap, in memory). */
  public boolean applies(String team, UUID workflowId) {
    Set<String> keys = budgeted;
    return !keys.isEmpty()
        && (keys.contains(cacheKey(Budget.TEAM, team))
            || (workflowId != null
                && keys.contains(cacheKey(Budget.WORKFLOW, workflowId.toString()))));
  }

  /**
   * Reserves {@code worstCaseUsd} for a call on every budget of its team and workflow. Blocking
   * (database): never call it on an event-loop thread.
   *
   * @throws GatewayException 402 {@code budget_exceeded} naming the budget that refused
   */
  public void reserve(UUID callId, String team, UUID workflowId, BigDecimal worstCaseUsd) {
    try {
      List<BudgetRepository.Remaining> after =
          repository.reserve(
              callId,
              team,
              workflowId == null ? null : workflowId.toString(),
              worstCaseUsd,
              Instant.now().plus(config.reservationTtl()));
      after.forEach(this::gauge);
    } catch (BudgetExceededException e) {
      throw new GatewayException(
          402,
          "insufficient_quota",
          BUDGET_EXCEEDED,
          null,
          e.getMessage(),
          false,
          false,
          null,
          null);
    } catch (Exception e) {
      // Fail closed: a call that cannot be reserved might overspend.
      LOG.errorf(e, "budget reservation failed");
      throw new GatewayException(
          503,
          GatewayException.SERVER,
          "budget_unavailable",
          null,
          "The gateway could not check the budget of this call; try again",
          false,
          true,
          null,
          e);
    }
  }

  /**
   * Settles a reserved call with its actual cost ({@code null}, unknown, adds nothing). Blocking; a
   * failure leaves the reservation to expire, when it is charged in full.
   */
  public void settle(UUID callId, BigDecimal actualUsd) {
    try {
      repository
          .settle(callId, actualUsd == null ? BigDecimal.ZERO : actualUsd)
          .forEach(this::gauge);
    } catch (Exception e) {
      LOG.errorf(e, "budget settlement of call %s failed; its reservation will expire", callId);
    }
  }

  /** Re-reads the budgets now (after an admin change on this replica). */
  public void refresh() {
    try {
      List<Budget> all = repository.findAll();
      Set<String> keys = new HashSet<>();
      for (Budget b : all) {
        keys.add(cacheKey(b.scope(), b.key()));
        gauge(new BudgetRepository.Remaining(b.scope(), b.key(), b.remainingUsd()));
      }
      budgeted = Set.copyOf(keys);
      // A deleted team budget reads NaN rather than its last value.
      remaining.forEach(
          (k, v) -> {
            if (!keys.contains(k)) {
              v.set(Double.NaN);
            }
          });
    } catch (Exception e) {
      LOG.warnf(e, "budgets could not be re-read; keeping the previous set");
    }
  }

  private void housekeeping() {
    try {
      repository.expire(Instant.now()).forEach(this::gauge);
    } catch (Exception e) {
      LOG.warnf(e, "expiring budget reservations failed");
    }
    refresh();
  }

  /**
   * Team budgets are exposed as {@code atelier.llm.budget.remaining{scope,key}}; workflow budgets
   * are not, since one series per workflow would grow without bound.
   */
  private void gauge(BudgetRepository.Remaining r) {
    if (!Budget.TEAM.equals(r.scope())) {
      return;
    }
    remaining
        .computeIfAbsent(
            cacheKey(r.scope(), r.key()),
            k -> {
              AtomicReference<Double> value = new AtomicReference<>(Double.NaN);
              Gauge.builder("atelier.llm.budget.remaining", value, AtomicReference::get)
                  .description("USD left in a budget: limit - spent - reserved")
                  .baseUnit("usd")
                  .tags("scope", r.scope(), "key", r.key())
                  .register(registry);
              return value;
            })
        .set(r.remainingUsd().doubleValue());
  }

  private static String cacheKey(String scope, String key) {
    return scope + '\u0000' + key;
  }
}
