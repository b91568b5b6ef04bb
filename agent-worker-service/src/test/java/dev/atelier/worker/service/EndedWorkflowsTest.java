package dev.atelier.worker.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.atelier.contracts.StepRequested;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class EndedWorkflowsTest {

  private static final Instant T = Instant.parse("2026-12-07T09:00:00Z");

  @Test
  void stopsOnlyStepsRequestedBeforeTheEnd() {
    EndedWorkflows ended = new EndedWorkflows(10);
    UUID workflow = UUID.randomUUID();
    ended.ended(workflow, "cancelled", T);

    assertThat(ended.after(stepOf(workflow, T.minusNanos(1000))))
        .hasValueSatisfying(e -> assertThat(e.status()).isEqualTo("cancelled"));
    // Requested at the end's instant or after it: a resumed workflow's step.
    assertThat(ended.after(stepOf(workflow, T))).isEmpty();
    assertThat(ended.after(stepOf(workflow, T.plusSeconds(1)))).isEmpty();
    assertThat(ended.after(stepOf(UUID.randomUUID(), T.minusSeconds(1)))).isEmpty();
    assertThatThrownBy(() -> ended.check(stepOf(workflow, T.minusSeconds(1))))
        .isInstanceOfSatisfying(
            StepFailure.class,
            f -> {
              assertThat(f.errorCode()).isEqualTo(StepFailure.WORKFLOW_ENDED);
              assertThat(f.retryable()).isTrue();
            });
  }

  @Test
  void keepsTheLatestEndWhateverTheOrderHeard() {
    EndedWorkflows ended = new EndedWorkflows(10);
    UUID workflow = UUID.randomUUID();
    // Failed, resumed, failed again; the two failures heard in the wrong order.
    ended.ended(workflow, "budget_exceeded", T.plusSeconds(60));
    ended.ended(workflow, "failed", T);

    assertThat(ended.after(stepOf(workflow, T.plusSeconds(30))))
        .hasValueSatisfying(e -> assertThat(e.status()).isEqualTo("budget_exceeded"));
    assertThat(ended.size()).isEqualTo(1);
  }

  @Test
  void forgetsTheOldestNewsBeyondItsCapacity() {
    EndedWorkflows ended = new EndedWorkflows(2);
    UUID first = UUID.randomUUID();
    UUID second = UUID.randomUUID();
    UUID third = UUID.randomUUID();
    ended.ended(first, "cancelled", T);
    ended.ended(second, "cancelled", T);
    // Heard again with a later end: news again, so kept over the second.
    ended.ended(first, "failed", T.plusSeconds(1));
    ended.ended(third, "cancelled", T);

    assertThat(ended.size()).isEqualTo(2);
    assertThat(ended.after(stepOf(first, T))).isPresent();
    assertThat(ended.after(stepOf(second, T.minusSeconds(1)))).isEmpty();
    assertThat(ended.after(stepOf(third, T.minusSeconds(1)))).isPresent();
    assertThatThrownBy(() -> new EndedWorkflows(0)).isInstanceOf(IllegalArgumentException.class);
  }

  private static StepRequested stepOf(UUID workflowId, Instant requestedAt) {
    return new StepRequested(
        UUID.randomUUID(),
        StepRequested.TYPE,
        requestedAt,
        workflowId,
        UUID.randomUUID(),
        "design",
        1,
        null,
        "a requirement",
        List.of(),
        null,
        null,
        null,
        null,
        Map.of());
  }
}
