package dev.atelier.gateway.provider;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.gateway.service.Usage;
import java.util.Optional;

/**
 * A complete chat answer.
 *
 * @param body the bytes to return to the caller unchanged
 * @param json the same, parsed, for metering
 * @param usage the provider's usage, when it reported one
 */
public record Completion(byte[] body, JsonNode json, Optional<Usage> usage) {

  public String responseModel() {
    JsonNode model = json.get("model");
    return model == null || !model.isTextual() ? null : model.asText();
  }
}
