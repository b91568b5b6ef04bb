package dev.atelier.gateway.provider;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.opentelemetry.context.Context;

/**
 * One embeddings call to a provider.
 *
 * @param request the validated request body ({@code input}, {@code encoding_format}, {@code
 *     dimensions}, ...), model not yet mapped
 * @param upstreamModel the model name the provider knows
 * @param trace the context the upstream HTTP span is a child of
 * @param unanswered run once for every attempt that sent the request and got no answer (see {@link
 *     ProviderCall#unanswered})
 */
public record EmbeddingCall(
    ObjectNode request, String upstreamModel, Context trace, Runnable unanswered) {

  /** The body to send upstream: the caller's, with the model mapped. */
  public ObjectNode forUpstream() {
    ObjectNode copy = request.deepCopy();
    copy.put("model", upstreamModel);
    return copy;
  }
}
