package dev.atelier.gateway.provider;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;

/**
 * An LLM provider speaking OpenAI's chat completion format. Failures are {@link
 * dev.atelier.gateway.service.GatewayException}s with the status the caller should see.
 */
public interface Provider {

  /** The provider's name in records, spans and metrics ({@code openai}, {@code simulated}). */
  String name();

  /** True for the built-in simulated provider. */
  boolean simulated();

  /** One complete answer. */
  Uni<Completion> complete(ProviderCall call);

  /**
   * A streamed answer as the {@code data} payloads of its server-sent events, without the final
   * {@code [DONE]}. A provider always includes its usage chunk; the gateway decides whether the
   * caller sees it. A failure before the first item means nothing was sent to the caller yet.
   */
  Multi<StreamEvent> stream(ProviderCall call);

  /**
   * An OpenAI {@code /v1/embeddings} answer; its body is returned to the caller unchanged and its
   * {@code usage.prompt_tokens} metered.
   */
  Uni<Completion> embed(EmbeddingCall call);

  /**
   * A cheap health check of the provider, for the periodic probes ({@link ProviderProbes}): the
   * status of the answer, or a failure when it could not be reached in {@code timeout}. Providers
   * with nothing to reach (the simulated one) answer 200.
   */
  default Uni<Integer> probe(java.time.Duration timeout) {
    return Uni.createFrom().item(200);
  }
}
