package dev.atelier.gateway.budget;

import dev.atelier.contracts.Headers;
import dev.atelier.gateway.config.GatewayConfig;
import dev.atelier.gateway.messaging.LlmCallPublisher;
import dev.atelier.gateway.messaging.RecoveredCall;
import dev.atelier.gateway.service.GatewayException;
import dev.atelier.kit.timers.Timers;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import org.jboss.logging.Logger;

/**
 * Enforces budgets: reserves a call's worst-case cost before it is sent and settles it with the
 * actual cost afterwards.
 *
 * <p>Rule: a call is admitted only when every hard budget that applies to it — global, its team's
 * (per period) and its workflow's — has {@code spent + reserved + worst case <= limit} in its
 * current period, checked and reserved in one transaction under the spend rows' locks (see {@link
 * BudgetRepository#reserve}). So however many calls run at once, on however many replicas, the
 * admitted worst cases together fit under each limit; spent can pass a limit only by what calls
 * cost beyond their reservation (a provider that ignores {@code max_tokens}). Soft budgets are
 * reserved and settled the same way but never refuse a call.
 *
 * <p>Which scopes have a budget is cached per replica and re-read every {@code
 * gateway.budgets.refresh-interval}, so calls without a budget never wait on the database. The
 * cache holds the admin-set budgets only (global, teams, and workflows an admin capped): the
 * workflow budgets callers declare in {@code X-Atelier-Workflow-Budget-Usd}, one per budgeted
 * workflow, come with each call they apply to, so the cache's size and its re-read stay independent
 * of how many workflows ran.
 */
@ApplicationScoped
public class BudgetService {

  /** Error code of a call a budget rejected. */
  public static final String BUDGET_EXCEEDED = dev.atelier.contracts.StepFailed.BUDGET_EXCEEDED;

  private static final Logger LOG = Logger.getLogger(BudgetService.class);

  private final BudgetRepository repository;
  private final GatewayConfig.Budgets config;
  private final MeterRegistry registry;
  private final Clock clock;
  private final LlmCallPublisher outbox;
  private final Map<String, Gauges> gauges = new ConcurrentHashMap<>();
  private volatile Set<String> budgeted = Set.of();
  private volatile boolean global;
  private ScheduledExecutorService scheduler;

  BudgetService(
      BudgetRepository repository,
      GatewayConfig config,
      MeterRegistry registry,
      Clock clock,
      LlmCallPublisher outbox) {
    this.repository = repository;
    this.config = config.budgets();
    this.registry = registry;
    this.clock = clock;
    this.outbox = outbox;
  }

  void onStart(@Observes StartupEvent event) {
    refresh();
    scheduler = Timers.every("budget-refresher", config.refreshInterval(), this::housekeeping);
  }

  void onStop(@Observes ShutdownEvent event) {
    if (scheduler != null) {
      scheduler.shutdownNow();
    }
  }

  /**
   * True when a budget may apply to the call (cheap, in memory): a global budget exists, the team
   * or the workflow has one an admin set, or the caller declares the workflow's budget with the
   * call.
   */
  public boolean applies(String team, UUID workflowId, BigDecimal workflowLimit) {
    if (global || (workflowId != null && workflowLimit != null)) {
      return true;
    }
    Set<String> keys = budgeted;
    return !keys.isEmpty()
        && (keys.contains(cacheKey(Budget.TEAM, team))
            || (workflowId != null
                && keys.contains(cacheKey(Budget.WORKFLOW, workflowId.toString()))));
  }

  /**
   * Reserves {@code worstCaseUsd} for a call on every budget that applies to it, all or nothing.
   * Blocking (database): never call it on an event-loop thread.
   *
   * @param workflowLimit the workflow's budget set by the caller ({@code
   *     X-Atelier-Workflow-Budget-Usd}), created or updated first (and kept even if the call is
   *     refused); null to leave it as it is
   * @throws GatewayException 402 {@code budget_exceeded} naming the budget that refused, its scope
   *     ({@code global}, {@code team} or {@code workflow}) as {@code error.param}; 403 {@code
   *     workflow_not_allowed} when another team's calls declared the workflow's budget
   */
  public void reserve(
      UUID callId,
      String team,
      UUID workflowId,
      BigDecimal workflowLimit,
      BigDecimal worstCaseUsd) {
    try {
      String workflowKey = workflowId == null ? null : workflowId.toString();
      List<Budget> after;
      try {
        after =
            repository.reserve(
                callId,
                new BudgetRepository.Scope(team, workflowKey),
                workflowKey == null ? null : workflowLimit,
                worstCaseUsd,
                clock.instant(),
                Instant.now().plus(config.reservationTtl()));
      } catch (BudgetExceededException e) {
        if (workflowKey != null && workflowLimit != null) {
          // The refusal rolled the declared limit back with the reservation: it stands anyway.
          repository.setWorkflowLimit(workflowKey, team, workflowLimit);
        }
        throw e;
      }
      after.forEach(this::gauge);
    } catch (BudgetExceededException e) {
      // error.param names the refusing budget's scope (global, team, workflow): the orchestrator
      // asks for a raised workflow budget on retry only when the workflow's own one refused.
      throw new GatewayException(
          402,
          "insufficient_quota",
          BUDGET_EXCEEDED,
          e.budget().scope(),
          e.getMessage(),
          false,
          false,
          null,
          null);
    } catch (WorkflowNotAllowedException e) {
      throw new GatewayException(
          403,
          "permission_error",
          "workflow_not_allowed",
          Headers.WORKFLOW_ID,
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
      settled(repository.settle(callId, actualUsd == null ? BigDecimal.ZERO : actualUsd));
    } catch (Exception e) {
      LOG.errorf(e, "budget settlement of call %s failed; its reservation will expire", callId);
    }
  }

  /** A call of an earlier run, whose settlement may have died with it: settled (again). */
  void onRecovered(@Observes RecoveredCall call) {
    settle(call.callId(), call.costUsd());
  }

  /** Re-reads the budgets now (after an admin change on this replica). */
  public void refresh() {
    try {
      List<Budget> all = repository.findAdminSet(clock.instant());
      Set<String> keys = new HashSet<>();
      boolean anyGlobal = false;
      for (Budget b : all) {
        keys.add(cacheKey(b.scope(), b.key()));
        anyGlobal |= Budget.GLOBAL.equals(b.scope());
        gauge(b);
      }
      budgeted = Set.copyOf(keys);
      global = anyGlobal;
      // A deleted budget reads NaN rather than its last value.
      Set<String> live = new HashSet<>();
      all.forEach(b -> live.add(gaugeKey(b)));
      gauges.forEach(
          (k, g) -> {
            if (!live.contains(k)) {
              g.remaining.set(Double.NaN);
              g.limit.set(Double.NaN);
            }
          });
    } catch (Exception e) {
      LOG.warnf(e, "budgets could not be re-read; keeping the previous set");
    }
  }

  private void housekeeping() {
    try {
      settled(repository.expire(Instant.now()));
    } catch (Exception e) {
      LOG.warnf(e, "expiring budget reservations failed");
    }
    refresh();
  }

  private void settled(BudgetRepository.Settled settled) {
    settled.budgets().forEach(this::gauge);
    if (settled.thresholdEvents() > 0) {
      outbox.drainSoon();
    }
  }

  private record Gauges(AtomicReference<Double> remaining, AtomicReference<Double> limit) {}

  /**
   * Global and team budgets are exposed as {@code atelier.llm.budget.remaining} and {@code
   * atelier.llm.budget.limit} with tags scope, key and period; workflow budgets are not, since one
   * series per workflow would grow without bound (their thresholds are announced as events).
   */
  private void gauge(Budget b) {
    if (Budget.WORKFLOW.equals(b.scope())) {
      return;
    }
    Gauges g =
        gauges.computeIfAbsent(
            gaugeKey(b),
            k -> {
              Gauges fresh =
                  new Gauges(new AtomicReference<>(Double.NaN), new AtomicReference<>(Double.NaN));
              String[] tags = {"scope", b.scope(), "key", b.key(), "period", b.period().label()};
              Gauge.builder("atelier.llm.budget.remaining", fresh.remaining, AtomicReference::get)
                  .description("USD left in a budget's current period: limit - spent - reserved")
                  .baseUnit("usd")
                  .tags(tags)
                  .register(registry);
              Gauge.builder("atelier.llm.budget.limit", fresh.limit, AtomicReference::get)
                  .description("A budget's limit in USD per period")
                  .baseUnit("usd")
                  .tags(tags)
                  .register(registry);
              return fresh;
            });
    g.remaining.set(b.remainingUsd().doubleValue());
    g.limit.set(b.limitUsd().doubleValue());
  }

  private static String gaugeKey(Budget b) {
    return cacheKey(b.scope(), b.key()) + '\u0000' + b.period().label();
  }

  private static String cacheKey(String scope, String key) {
    return scope + '\u0000' + key;
  }
}
