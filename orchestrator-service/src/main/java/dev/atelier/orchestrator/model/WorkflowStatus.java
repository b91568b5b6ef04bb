package dev.atelier.orchestrator.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** Where a workflow is; stored and shown in lower case. */
public enum WorkflowStatus {
  RUNNING,
  WAITING_APPROVAL,
  COMPLETED,
  FAILED,
  CANCELLED;

  @JsonValue
  public String value() {
    return name().toLowerCase(Locale.ROOT);
  }

  public boolean isTerminal() {
    return this == COMPLETED || this == FAILED || this == CANCELLED;
  }

  /** Still going: steps may be out, results are applied. */
  public boolean isActive() {
    return !isTerminal();
  }

  /** Parses the lower-case name; {@link IllegalArgumentException} for anything else. */
  @JsonCreator
  public static WorkflowStatus of(String value) {
    for (WorkflowStatus s : values()) {
      if (s.value().equals(value)) {
        return s;
      }
    }
    throw new IllegalArgumentException("unknown workflow status: " + value);
  }
}
