package dev.atelier.worker.service;

import dev.atelier.contracts.ArtifactRef;
import java.util.List;

/** What one step attempt came to; published as {@code StepCompleted} or {@code StepFailed}. */
public sealed interface StepOutcome {

  /** {@code completed} or {@code failed}; part of the result's deterministic event id. */
  String name();

  /**
   * The attempt stored its outputs.
   *
   * @param verdict the output's top-level {@code verdict}, or {@code null}
   */
  record Completed(List<ArtifactRef> outputs, String verdict, String summary)
      implements StepOutcome {
    public Completed {
      outputs = List.copyOf(outputs);
    }

    @Override
    public String name() {
      return "completed";
    }
  }

  /**
   * The attempt failed; see {@link StepFailure} for the codes.
   *
   * @param budgetScope with {@code budget_exceeded}, the scope of the budget that refused, or null
   */
  record Failed(String errorCode, String message, boolean retryable, String budgetScope)
      implements StepOutcome {

    static Failed of(StepFailure f) {
      return new Failed(f.errorCode(), f.getMessage(), f.retryable(), f.budgetScope());
    }

    @Override
    public String name() {
      return "failed";
    }
  }

  /**
   * Another worker runs this attempt (it holds the attempt's lease), so this delivery publishes
   * nothing: that worker's result is the attempt's.
   *
   * @param reason why, for the log
   */
  record Duplicate(String reason) implements StepOutcome {
    @Override
    public String name() {
      return "duplicate";
    }
  }
}
