package dev.atelier.gateway.service;

import dev.atelier.contracts.Headers;
import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;

/**
 * Who an LLM call is for: the workflow, step, agent and conversation named by the caller's {@code
 * X-Atelier-*} headers, or, when a header is absent, by the W3C baggage entries {@code
 * atelier.workflow_id}, {@code atelier.step_id}, {@code atelier.agent}, {@code
 * atelier.conversation_id} (a caller that only propagates baggage is still attributed).
 */
public record Attribution(UUID workflowId, String stepId, String agent, String conversationId) {

  public static final String BAGGAGE_WORKFLOW_ID = "atelier.workflow_id";
  public static final String BAGGAGE_STEP_ID = "atelier.step_id";
  public static final String BAGGAGE_AGENT = "atelier.agent";
  public static final String BAGGAGE_CONVERSATION_ID = "atelier.conversation_id";

  private static final int MAX_LENGTH = 200;

  /**
   * Reads attribution from request headers.
   *
   * @throws GatewayException 400 when the workflow id is not a UUID, or a value is too long or
   *     holds a control character
   */
  public static Attribution from(Function<String, String> header) {
    Baggage baggage = baggage(header.apply(Headers.BAGGAGE));
    String workflow = pick(header, Headers.WORKFLOW_ID, baggage, BAGGAGE_WORKFLOW_ID);
    UUID workflowId = null;
    if (workflow != null) {
      try {
        workflowId = UUID.fromString(workflow);
      } catch (IllegalArgumentException e) {
        throw GatewayException.invalid(
            Headers.WORKFLOW_ID,
            Headers.WORKFLOW_ID + " must be a UUID, got '" + clip(workflow) + "'");
      }
    }
    return new Attribution(
        workflowId,
        pick(header, Headers.STEP_ID, baggage, BAGGAGE_STEP_ID),
        pick(header, Headers.AGENT, baggage, BAGGAGE_AGENT),
        pick(header, Headers.CONVERSATION_ID, baggage, BAGGAGE_CONVERSATION_ID));
  }

  private static String pick(
      Function<String, String> header, String name, Baggage baggage, String entry) {
    String value = header.apply(name);
    if (value == null || value.isBlank()) {
      value = baggage.getEntryValue(entry);
    }
    if (value == null || value.isBlank()) {
      return null;
    }
    value = value.trim();
    if (value.length() > MAX_LENGTH) {
      throw GatewayException.invalid(name, name + " is longer than " + MAX_LENGTH + " characters");
    }
    // A header cannot carry a control character, but a percent-encoded baggage value can; the
    // ledger's text cannot hold NUL, so such a call would go unmetered.
    if (value.chars().anyMatch(Character::isISOControl)) {
      throw GatewayException.invalid(name, name + " must not contain control characters");
    }
    return value;
  }

  private static Baggage baggage(String header) {
    if (header == null || header.isBlank()) {
      return Baggage.empty();
    }
    Context extracted =
        W3CBaggagePropagator.getInstance()
            .extract(
                Context.root(),
                header,
                new TextMapGetter<String>() {
                  @Override
                  public Iterable<String> keys(String carrier) {
                    return List.of(Headers.BAGGAGE);
                  }

                  @Override
                  public String get(String carrier, String key) {
                    return Headers.BAGGAGE.equals(key) ? carrier : null;
                  }
                });
    return Baggage.fromContext(extracted);
  }

  private static String clip(String s) {
    return s.length() > 64 ? s.substring(0, 64) + "..." : s;
  }
}
