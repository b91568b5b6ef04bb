package dev.atelier.contracts;

import java.math.BigDecimal;
import java.time.Instant;

/**
 * What a well-formed event must satisfy before a consumer stores it. A violation throws {@link
 * MalformedEventException}, which the consumer dead-letters with the reason: retrying an event that
 * can never be valid would only block the queue. Every consumer of {@link LlmCallRecorded} applies
 * the same check (tracking-service's ledger, the orchestrator's usage totals), so the two agree on
 * which calls count.
 */
public final class EventChecks {

  /**
   * Integer digits and decimals {@code numeric(30, 18)} holds. Gateway costs are exact products of
   * per-1M prices (9 decimals) and token counts, so they need up to 15 decimals; the ledger stores
   * them unrounded.
   */
  private static final int COST_INTEGER_DIGITS = 12;

  private static final int COST_SCALE = 18;

  /**
   * The times a call can have. Beyond them a record used to pass these checks and then fail its
   * whole batch in the database (PostgreSQL's timestamps end in year 294276, the microseconds the
   * ledger binds in 292277), so that batch's good records were redelivered with it until the
   * delivery limit dead-lettered them all.
   */
  private static final Instant EARLIEST = Instant.parse("1970-01-01T00:00:00Z");

  private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59.999999Z");

  private EventChecks() {}

  public static void check(LlmCallRecorded r) {
    require(LlmCallRecorded.TYPE.equals(r.type()), "unexpected event type " + r.type());
    // The codec rejects both; an event built otherwise must not reach the ledger without them.
    require(r.eventId() != null, "eventId is missing");
    require(r.occurredAt() != null, "occurredAt is missing");
    require(notBlank(r.operation()), "operation is missing");
    require(
        within(r.occurredAt()) && (r.startedAt() == null || within(r.startedAt())),
        "occurredAt and startedAt must lie between " + EARLIEST + " and " + LATEST);
    require(notBlank(r.provider()), "provider is missing");
    // PostgreSQL's text cannot hold NUL: such a record would fail its whole batch in the database.
    requireNoNul(
        r.stepId(),
        r.agent(),
        r.conversationId(),
        r.team(),
        r.operation(),
        r.provider(),
        r.requestModel(),
        r.responseModel(),
        r.status(),
        r.errorCode(),
        r.usageSource(),
        r.priceVersion(),
        r.traceId(),
        r.spanId(),
        r.fallbackPath());
    require(
        LlmCallRecorded.STATUS_OK.equals(r.status())
            || LlmCallRecorded.STATUS_ERROR.equals(r.status()),
        "status must be ok or error, was " + r.status());
    require(
        r.inputTokens() >= 0
            && r.cachedInputTokens() >= 0
            && r.outputTokens() >= 0
            && r.reasoningTokens() >= 0,
        "token counts must not be negative");
    require(r.latencyMs() >= 0, "latencyMs must not be negative");
    // The ledger keeps counts and milliseconds in 4-byte integers (2^31-1 tokens in one call or
    // 24 days of latency are not real calls); sums are 8-byte.
    require(
        r.inputTokens() <= Integer.MAX_VALUE
            && r.cachedInputTokens() <= Integer.MAX_VALUE
            && r.outputTokens() <= Integer.MAX_VALUE
            && r.reasoningTokens() <= Integer.MAX_VALUE,
        "token counts must be below 2^31");
    require(
        r.latencyMs() <= Integer.MAX_VALUE
            && (r.timeToFirstTokenMs() == null || r.timeToFirstTokenMs() <= Integer.MAX_VALUE),
        "latencyMs and timeToFirstTokenMs must be below 2^31");
    require(
        r.timeToFirstTokenMs() == null || r.timeToFirstTokenMs() >= 0,
        "timeToFirstTokenMs must not be negative");
    BigDecimal cost = r.costUsd();
    require(cost == null || cost.signum() >= 0, "costUsd must not be negative");
    require(
        cost == null || cost.precision() - cost.scale() <= COST_INTEGER_DIGITS,
        "costUsd is out of range: " + cost);
    require(
        cost == null || cost.stripTrailingZeros().scale() <= COST_SCALE,
        "costUsd has more than " + COST_SCALE + " decimals and would be rounded: " + cost);
  }

  public static void check(WorkflowStatusChanged e) {
    require(WorkflowStatusChanged.TYPE.equals(e.type()), "unexpected event type " + e.type());
    require(e.eventId() != null, "eventId is missing");
    require(e.occurredAt() != null, "occurredAt is missing");
    require(e.workflowId() != null, "workflowId is missing");
    require(notBlank(e.status()), "status is missing");
    requireNoNul(e.definition(), e.title(), e.team(), e.status(), e.previousStatus(), e.reason());
  }

  private static boolean within(Instant t) {
    return !t.isBefore(EARLIEST) && !t.isAfter(LATEST);
  }

  private static void requireNoNul(String... texts) {
    for (String text : texts) {
      require(text == null || text.indexOf('\u0000') < 0, "text fields must not contain NUL");
    }
  }

  private static boolean notBlank(String s) {
    return s != null && !s.isBlank();
  }

  private static void require(boolean condition, String reason) {
    if (!condition) {
      throw new MalformedEventException(reason, null);
    }
  }
}
