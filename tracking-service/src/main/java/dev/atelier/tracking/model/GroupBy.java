package dev.atelier.tracking.model;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** Dimensions a usage report can group by; {@code day} and {@code hour} are UTC. */
public enum GroupBy {
  WORKFLOW,
  STEP,
  AGENT,
  TEAM,
  PROVIDER,
  MODEL,
  HOUR,
  DAY;

  public String value() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Optional<GroupBy> parse(String value) {
    return Arrays.stream(values()).filter(g -> g.value().equals(value)).findFirst();
  }
}
