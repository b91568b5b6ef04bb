package dev.atelier.gateway.provider;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.gateway.service.Usage;
import java.util.Optional;

/**
 * A complete chat (or embeddings) answer.
 *
 * @param body the bytes to return to the caller unchanged
 * @param usage the provider's usage, when it reported one
 * @param responseModel the answer's {@code model}, or null
 * @param responseId the answer's {@code id}, or null
 * @param finishReason the first choice's {@code finish_reason}, or null
 * @param tree the answer parsed as a tree when the provider already had one (the simulated provider
 *     builds it), else null: a provider's answer is read with a streaming parser for the fields
 *     above, and parsed whole only when its text must be counted (no usage reported)
 */
public record Completion(
    byte[] body,
    Optional<Usage> usage,
    String responseModel,
    String responseId,
    String finishReason,
    JsonNode tree) {

  /** An answer built as a tree; the metering fields are read from it. */
  public Completion(byte[] body, JsonNode json, Optional<Usage> usage) {
    this(
        body,
        usage,
        text(json.get("model")),
        text(json.get("id")),
        text(json.path("choices").path(0).get("finish_reason")),
        json);
  }

  private static String text(JsonNode node) {
    return node == null || !node.isTextual() ? null : node.asText();
  }
}
