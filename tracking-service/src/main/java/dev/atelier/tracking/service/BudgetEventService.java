package dev.atelier.tracking.service;

import dev.atelier.contracts.BudgetThresholdCrossed;
import dev.atelier.contracts.EventChecks;
import dev.atelier.contracts.MalformedEventException;
import dev.atelier.tracking.model.BudgetEvent;
import dev.atelier.tracking.model.BudgetEventFilter;
import dev.atelier.tracking.model.Page;
import dev.atelier.tracking.model.PageCursor;
import dev.atelier.tracking.repository.BudgetEventRepository;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.Set;

/** Keeps the history of budget threshold crossings, each stored exactly once. */
@ApplicationScoped
public class BudgetEventService {

  /** The scopes a budget can have, as the gateway names them. */
  public static final Set<String> SCOPES = Set.of("global", "team", "workflow");

  private static final Set<String> PERIODS = Set.of("total", "day", "month");
  private static final Set<Integer> THRESHOLDS = Set.of(50, 80, 100);
  private static final int MAX_KEY_LENGTH = 256;

  private final BudgetEventRepository events;
  private final Counter stored;
  private final Counter duplicates;

  BudgetEventService(BudgetEventRepository events, MeterRegistry registry) {
    this.events = events;
    this.stored = counter(registry, "stored");
    this.duplicates = counter(registry, "duplicate");
  }

  /**
   * Stores a crossing unless the ledger has it already.
   *
   * @return false for a duplicate (a redelivery or a replica's re-announcement)
   * @throws MalformedEventException when the event can never be valid (dead-lettered)
   */
  public boolean record(BudgetThresholdCrossed e) {
    check(e);
    boolean inserted = events.insert(e);
    (inserted ? stored : duplicates).increment();
    return inserted;
  }

  /** One page of crossings, newest first. */
  public Page<BudgetEvent> list(BudgetEventFilter filter, PageCursor after, int limit) {
    List<BudgetEvent> rows = events.list(filter, after, limit + 1);
    if (rows.size() <= limit) {
      return new Page<>(rows, null);
    }
    List<BudgetEvent> page = rows.subList(0, limit);
    BudgetEvent last = page.get(limit - 1);
    return new Page<>(page, new PageCursor(last.occurredAt(), last.id()).encode());
  }

  static void check(BudgetThresholdCrossed e) {
    require(BudgetThresholdCrossed.TYPE.equals(e.type()), "unexpected event type " + e.type());
    require(e.eventId() != null && e.occurredAt() != null, "eventId and occurredAt are required");
    require(e.budgetId() != null, "budgetId is missing");
    require(SCOPES.contains(e.scope()), "scope must be global, team or workflow, was " + e.scope());
    require(e.scopeKey() != null && !e.scopeKey().isBlank(), "scopeKey is missing");
    // The gateway's keys are at most 200 characters; beyond, or with a NUL, the database would
    // refuse it on every redelivery (a B-tree entry holds about 2.7 kB, text no NUL).
    require(
        e.scopeKey().length() <= MAX_KEY_LENGTH && e.scopeKey().indexOf('\u0000') < 0,
        "scopeKey must be at most " + MAX_KEY_LENGTH + " characters, without NUL");
    require(PERIODS.contains(e.period()), "period must be total, day or month, was " + e.period());
    require(e.periodStart() != null, "periodStart is missing");
    require(
        EventChecks.storableTime(e.occurredAt()) && EventChecks.storableTime(e.periodStart()),
        "occurredAt and periodStart must lie between the years 1970 and 9999");
    require(
        THRESHOLDS.contains(e.thresholdPercent()),
        "thresholdPercent must be 50, 80 or 100, was " + e.thresholdPercent());
    require(
        e.limitUsd() != null && e.limitUsd().signum() >= 0,
        "limitUsd must be a non-negative amount");
    require(
        e.spentUsd() != null && e.spentUsd().signum() >= 0,
        "spentUsd must be a non-negative amount");
  }

  private static void require(boolean condition, String reason) {
    if (!condition) {
      throw new MalformedEventException(reason, null);
    }
  }

  private static Counter counter(MeterRegistry registry, String outcome) {
    return Counter.builder("atelier.tracking.budget.events")
        .description("Budget threshold events received by the ledger, by outcome")
        .tag("outcome", outcome)
        .register(registry);
  }
}
