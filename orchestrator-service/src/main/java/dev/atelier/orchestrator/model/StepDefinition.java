package dev.atelier.orchestrator.model;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.time.Duration;
import java.util.List;

/**
 * One step of a workflow definition.
 *
 * @param id unique within the definition, for example {@code implement}
 * @param role the agent definition that runs it
 * @param needs steps that must have succeeded first; steps whose needs are met run in parallel
 * @param approval whether a person approves the step's start (a gate): once its needs are met the
 *     step waits in {@code waiting_approval} until approved or rejected
 * @param onReject an earlier step (one it needs, directly or not) that a rejection sends the work
 *     back to, with the reviewer's comment as feedback; without it a rejection fails the workflow
 * @param loop optional loop back to an earlier step on a verdict
 * @param retry retry policy of failed attempts
 * @param timeout how long an attempt may take before it counts as failed ({@code timeout})
 * @param inputs artifact names the step reads; empty means the outputs of all the steps it
 *     (transitively) needs
 */
public record StepDefinition(
    String id,
    String role,
    List<String> needs,
    Boolean approval,
    String onReject,
    LoopPolicy loop,
    RetryPolicy retry,
    @JsonSerialize(using = DurationText.Serializer.class)
        @JsonDeserialize(using = DurationText.Deserializer.class)
        Duration timeout,
    List<String> inputs) {

  public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);

  public StepDefinition {
    needs = needs == null ? List.of() : List.copyOf(needs);
    approval = approval != null && approval;
    retry = retry == null ? RetryPolicy.DEFAULT : retry;
    timeout = timeout == null ? DEFAULT_TIMEOUT : timeout;
    inputs = inputs == null ? List.of() : List.copyOf(inputs);
  }
}
