package dev.atelier.kit.db;

import java.time.Instant;

/**
 * The instants a query may carry. {@link Instant#parse} accepts years PostgreSQL's timestamptz
 * cannot hold (and the range arithmetic on them overflows): a bound outside years 0001 to 9999 is
 * refused as input rather than failing in SQL (a 500).
 */
public final class StorableTime {

  public static final Instant MIN = Instant.parse("0001-01-01T00:00:00Z");
  public static final Instant MAX = Instant.parse("9999-12-31T23:59:59.999999Z");

  private StorableTime() {}

  public static boolean holds(Instant t) {
    return !t.isBefore(MIN) && !t.isAfter(MAX);
  }
}
