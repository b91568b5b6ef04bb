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
 * @param approval whether a person approves the step's start (a gate; not enforced yet)
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
