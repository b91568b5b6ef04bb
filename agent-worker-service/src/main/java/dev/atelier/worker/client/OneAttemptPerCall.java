package dev.atelier.worker.client;

import dev.langchain4j.model.openai.OpenAiChatModel;
import io.quarkiverse.langchain4j.ModelBuilderCustomizer;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Makes the gateway's ChatModel send each chat request once. quarkus-langchain4j's {@code
 * max-retries} cannot be 0 (its minimum is one quick retry), and that retry stacked on the
 * gateway's own provider retries and the orchestrator's step retries: a provider answering 5xx was
 * called four times per step attempt, and a call that timed out after {@code GATEWAY_TIMEOUT} was
 * sent again while the gateway might still be paying for the first. Retrying is the gateway's job
 * (per provider, with fallback) and the orchestrator's (per step, with backoff); {@link
 * GatewayChat} only waits out a gateway that cannot be reached, when nothing was sent.
 */
@ApplicationScoped
class OneAttemptPerCall implements ModelBuilderCustomizer<OpenAiChatModel.OpenAiChatModelBuilder> {

  @Override
  public void customize(OpenAiChatModel.OpenAiChatModelBuilder builder) {
    builder.maxRetries(0);
  }
}
