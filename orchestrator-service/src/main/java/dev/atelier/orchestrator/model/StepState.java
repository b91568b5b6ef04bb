package dev.atelier.orchestrator.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** Where a step is; stored and shown in lower case. */
public enum StepState {
  PENDING,
  DISPATCHED,
  /** Reserved for a worker's start notice; results are accepted in this state too. */
  RUNNING,
  SUCCEEDED,
  FAILED,
  RETRY_SCHEDULED,
  CANCELLED,
  SKIPPED,
  WAITING_APPROVAL;

  @JsonValue
  public String value() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** An attempt is out with a worker. */
  public boolean isInFlight() {
    return this == DISPATCHED || this == RUNNING;
  }

  /** Counts as done for the steps that need it. */
  public boolean isSatisfied() {
    return this == SUCCEEDED || this == SKIPPED;
  }

  @JsonCreator
  public static StepState of(String value) {
    for (StepState s : values()) {
      if (s.value().equals(value)) {
        return s;
      }
    }
    throw new IllegalArgumentException("unknown step state: " + value);
  }
}
