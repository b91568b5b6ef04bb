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

  /**
   * The longest text field of a call record, in UTF-8 bytes. The ledger indexes its labels (model,
   * agent, team, ...) in B-trees, whose entries end at about 2.7 kB: a longer value passed these
   * checks and then failed in the database. The gateway's own limits (200 characters of
   * attribution, 256 of a model name) fit.
   */
  public static final int MAX_TEXT_BYTES = 1_024;

  /** The longest fallback path, in UTF-8 bytes: several {@code provider/model} names joined. */
  public static final int MAX_FALLBACK_PATH_BYTES = 2_048;

  /**
   * The longest team, agent, provider and model together, in UTF-8 bytes: the usage rollups hold
   * them in one unique index entry.
   */
  public static final int MAX_ROLLUP_KEY_BYTES = 2_048;

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
    requireAtMost("stepId", r.stepId());
    requireAtMost("agent", r.agent());
    requireAtMost("conversationId", r.conversationId());
    requireAtMost("team", r.team());
    requireAtMost("operation", r.operation());
    requireAtMost("provider", r.provider());
    requireAtMost("requestModel", r.requestModel());
    requireAtMost("responseModel", r.responseModel());
    requireAtMost("status", r.status());
    requireAtMost("errorCode", r.errorCode());
    requireAtMost("usageSource", r.usageSource());
    requireAtMost("priceVersion", r.priceVersion());
    requireAtMost("traceId", r.traceId());
    requireAtMost("spanId", r.spanId());
    require(
        utf8Length(r.fallbackPath()) <= MAX_FALLBACK_PATH_BYTES,
        "fallbackPath is longer than " + MAX_FALLBACK_PATH_BYTES + " bytes in UTF-8");
    String model = r.responseModel() != null ? r.responseModel() : r.requestModel();
    require(
        utf8Length(r.team()) + utf8Length(r.agent()) + utf8Length(r.provider()) + utf8Length(model)
            <= MAX_ROLLUP_KEY_BYTES,
        "team, agent, provider and model are longer than "
            + MAX_ROLLUP_KEY_BYTES
            + " bytes in UTF-8 together");
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
    require(within(e.occurredAt()), "occurredAt must lie between " + EARLIEST + " and " + LATEST);
    require(e.workflowId() != null, "workflowId is missing");
    require(notBlank(e.status()), "status is missing");
    requireNoNul(e.definition(), e.title(), e.team(), e.status(), e.previousStatus(), e.reason());
  }

  /** Whether a database timestamp can hold {@code t} (see {@link #EARLIEST}, {@link #LATEST}). */
  public static boolean storableTime(Instant t) {
    return t != null && within(t);
  }

  private static boolean within(Instant t) {
    return !t.isBefore(EARLIEST) && !t.isAfter(LATEST);
  }

  private static void requireNoNul(String... texts) {
    for (String text : texts) {
      require(text == null || text.indexOf('\u0000') < 0, "text fields must not contain NUL");
    }
  }

  private static void requireAtMost(String field, String text) {
    require(
        utf8Length(text) <= MAX_TEXT_BYTES,
        field + " is longer than " + MAX_TEXT_BYTES + " bytes in UTF-8");
  }

  /** The UTF-8 length of {@code s} (0 for null), without encoding it. */
  public static int utf8Length(String s) {
    if (s == null) {
      return 0;
    }
    int bytes = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        bytes++;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        bytes += 4;
        i++;
      } else {
        // Other BMP characters, and a lone surrogate (encoded as '?', 1 byte, or 3): counted high.
        bytes += 3;
      }
    }
    return bytes;
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
