package dev.atelier.gateway.provider;

import dev.atelier.gateway.service.ChatRequest;
import io.opentelemetry.context.Context;

/**
 * One call to a provider.
 *
 * @param upstreamModel the model name the provider knows
 * @param trace the context of the call's {@code chat} span, parent of the upstream HTTP span
 * @param unanswered run once for every attempt that sent the request and got no answer (a timeout,
 *     a connection reset, an answer too large to read) before it was retried or failed: the
 *     provider read that prompt, and may have billed it
 */
public record ProviderCall(
    ChatRequest request, String upstreamModel, Context trace, Runnable unanswered) {

  /** A call whose unanswered attempts nobody counts. */
  public ProviderCall(ChatRequest request, String upstreamModel, Context trace) {
    this(request, upstreamModel, trace, () -> {});
  }
}
