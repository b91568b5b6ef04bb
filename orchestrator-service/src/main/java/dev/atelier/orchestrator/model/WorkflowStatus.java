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
  CANCELLED,
  /** Stopped by its budget: a call was refused for it, or its spend reached it before a step. */
  BUDGET_EXCEEDED;

  @JsonValue
  public String value() {
    return name().toLowerCase(Locale.ROOT);
  }

  public boolean isTerminal() {
    return this == COMPLETED || this == FAILED || this == CANCELLED || this == BUDGET_EXCEEDED;
  }

  /** Ended without completing; {@code POST .../retry} resumes it. */
  public boolean isRetryable() {
    return this == FAILED || this == BUDGET_EXCEEDED;
  }

  /** Every status's API name, for error messages. */
  public static String names() {
    return String.join(", ", java.util.Arrays.stream(values()).map(WorkflowStatus::value).toList());
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
