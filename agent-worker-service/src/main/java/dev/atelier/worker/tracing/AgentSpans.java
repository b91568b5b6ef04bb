package dev.atelier.worker.tracing;

import dev.atelier.contracts.StepRequested;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * The {@code invoke_agent {role}} span of a step, per the GenAI semantic conventions (v1.41.1) for
 * agent spans. INTERNAL, because the agent runs inside this process; the LLM calls it makes are its
 * children ({@code chat {model}}, from quarkus-langchain4j), and it is itself a child of the
 * consumer span of the delivery.
 */
@ApplicationScoped
public class AgentSpans {

  public static final AttributeKey<String> OPERATION_NAME =
      AttributeKey.stringKey("gen_ai.operation.name");
  public static final AttributeKey<String> AGENT_NAME = AttributeKey.stringKey("gen_ai.agent.name");
  public static final AttributeKey<String> AGENT_VERSION =
      AttributeKey.stringKey("gen_ai.agent.version");
  public static final AttributeKey<String> REQUEST_MODEL =
      AttributeKey.stringKey("gen_ai.request.model");
  public static final AttributeKey<String> RESPONSE_MODEL =
      AttributeKey.stringKey("gen_ai.response.model");
  public static final AttributeKey<String> CONVERSATION_ID =
      AttributeKey.stringKey("gen_ai.conversation.id");
  public static final AttributeKey<Long> INPUT_TOKENS =
      AttributeKey.longKey("gen_ai.usage.input_tokens");
  public static final AttributeKey<Long> OUTPUT_TOKENS =
      AttributeKey.longKey("gen_ai.usage.output_tokens");
  public static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
  public static final AttributeKey<String> WORKFLOW_ID =
      AttributeKey.stringKey("atelier.workflow.id");
  public static final AttributeKey<String> STEP_ID = AttributeKey.stringKey("atelier.step.id");
  public static final AttributeKey<String> STEP_KEY = AttributeKey.stringKey("atelier.step.key");
  public static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("atelier.attempt");
  public static final AttributeKey<Long> LLM_CALLS = AttributeKey.longKey("atelier.llm.calls");

  private final Tracer tracer;

  AgentSpans(OpenTelemetry openTelemetry) {
    this.tracer = openTelemetry.getTracer("dev.atelier.worker");
  }

  /** Starts the span under the current context (the delivery's consumer span). */
  public Span start(StepRequested step, String conversationId) {
    String role = step.agent() == null ? "unknown" : step.agent().role();
    var builder =
        tracer
            .spanBuilder("invoke_agent " + role)
            .setSpanKind(SpanKind.INTERNAL)
            .setAttribute(OPERATION_NAME, "invoke_agent")
            .setAttribute(AGENT_NAME, role)
            .setAttribute(CONVERSATION_ID, conversationId)
            .setAttribute(WORKFLOW_ID, step.workflowId().toString())
            .setAttribute(STEP_ID, step.stepId().toString())
            .setAttribute(STEP_KEY, step.stepKey())
            .setAttribute(ATTEMPT, (long) step.attempt());
    if (step.agent() != null) {
      builder.setAttribute(AGENT_VERSION, String.valueOf(step.agent().version()));
      if (step.agent().model() != null) {
        builder.setAttribute(REQUEST_MODEL, step.agent().model());
      }
    }
    return builder.startSpan();
  }

  /** Marks the span failed with the step's error code. */
  public static void failed(Span span, String errorCode, String message) {
    span.setAttribute(ERROR_TYPE, errorCode);
    span.setStatus(StatusCode.ERROR, message);
  }
}
