package dev.atelier.worker.client;

import dev.atelier.contracts.Headers;
import jakarta.ws.rs.client.ClientRequestContext;
import jakarta.ws.rs.client.ClientRequestFilter;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.ext.Provider;

/**
 * Adds the {@code X-Atelier-*} attribution headers to outbound REST client calls made while a step
 * runs. As a {@link Provider} it applies to every Quarkus REST client, including the one
 * quarkus-langchain4j builds for the gateway, whose API has no per-request headers. context-service
 * calls carry the headers too, which costs nothing and attributes the writes in its logs. An LLM
 * call also carries its {@link LlmCallKey} as {@code Idempotency-Key}.
 */
@Provider
public class AttributionHeaders implements ClientRequestFilter {

  @Override
  public void filter(ClientRequestContext request) {
    Attribution.current()
        .ifPresent(
            a -> {
              MultivaluedMap<String, Object> headers = request.getHeaders();
              putIfPresent(headers, Headers.WORKFLOW_ID, a.workflowId());
              putIfPresent(headers, Headers.STEP_ID, a.stepId());
              putIfPresent(headers, Headers.AGENT, a.agent());
              putIfPresent(headers, Headers.CONVERSATION_ID, a.conversationId());
              putIfPresent(headers, Headers.WORKFLOW_BUDGET_USD, a.workflowBudgetUsd());
              putIfPresent(headers, Headers.TEAM, a.team());
            });
    LlmCallKey.current()
        .filter(key -> !request.getHeaders().containsKey(Headers.IDEMPOTENCY_KEY))
        .ifPresent(key -> request.getHeaders().putSingle(Headers.IDEMPOTENCY_KEY, key));
  }

  private static void putIfPresent(
      MultivaluedMap<String, Object> headers, String name, String value) {
    if (value != null) {
      headers.putSingle(name, value);
    }
  }
}
