package dev.atelier.gateway.budget;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Optional;

/** What a budget's spend counts over: all time, the UTC day, or the UTC calendar month. */
public enum BudgetPeriod {
  TOTAL,
  DAY,
  MONTH;

  /** The start of a {@code total} budget's one and only period. */
  public static final Instant EPOCH = Instant.EPOCH;

  /** The name used in the API, the database, metrics and events. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The start (UTC) of the period that contains {@code now}. */
  public Instant start(Instant now) {
    return switch (this) {
      case TOTAL -> EPOCH;
      case DAY -> now.truncatedTo(ChronoUnit.DAYS);
      case MONTH ->
          LocalDate.ofInstant(now, ZoneOffset.UTC)
              .withDayOfMonth(1)
              .atStartOfDay()
              .toInstant(ZoneOffset.UTC);
    };
  }

  public static Optional<BudgetPeriod> parse(String label) {
    for (BudgetPeriod p : values()) {
      if (p.label().equals(label)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }
}
