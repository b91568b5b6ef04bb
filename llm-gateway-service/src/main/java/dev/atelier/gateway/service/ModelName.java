package dev.atelier.gateway.service;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.contracts.ModelNames;
import dev.atelier.contracts.Utf16;

/**
 * The {@code model} of a request, which is routed, priced and recorded in the ledger as given, and
 * the model a provider says answered, which is recorded too. Neither may hold a control character:
 * PostgreSQL's text cannot store NUL, so a record carrying one would reach the ledger only as a
 * dead letter, and an unmetered call is worse than a refused one.
 */
final class ModelName {

  static final int MAX_LENGTH = ModelNames.MAX_LENGTH;

  private ModelName() {}

  /**
   * The request's {@code model}.
   *
   * @throws GatewayException 400 when it is missing, not a non-empty string, longer than {@value
   *     #MAX_LENGTH} characters or holds a control character
   */
  static String require(JsonNode body) {
    JsonNode model = body.get("model");
    if (model == null || model.isNull()) {
      throw GatewayException.invalid(
          "missing_required_parameter", "model", "You must provide a model parameter.");
    }
    if (!model.isTextual() || model.asText().isBlank()) {
      throw GatewayException.invalid("model", "'model' must be a non-empty string");
    }
    String name = model.asText();
    String fault = ModelNames.fault(name);
    if (fault != null) {
      // Valid JSON can carry a NUL or an escaped \ud800, but the ledger cannot store either and
      // the gateway's spool (jsonb) refuses the latter.
      throw GatewayException.invalid("model", "'model' " + fault);
    }
    return name;
  }

  /**
   * The model a provider reports, made recordable: control characters and halves of surrogate pairs
   * dropped, cut at {@value #MAX_LENGTH} characters; {@code null} when nothing is left. What a
   * provider answers is not the caller's fault, so it is cleaned rather than refused.
   */
  static String reported(String name) {
    if (name == null) {
      return null;
    }
    StringBuilder clean = new StringBuilder(Math.min(name.length(), MAX_LENGTH));
    for (int i = 0; i < name.length() && clean.length() < MAX_LENGTH; i++) {
      char c = name.charAt(i);
      if (Character.isISOControl(c) || Utf16.unpairedSurrogateAt(name, i)) {
        continue;
      }
      clean.append(c);
    }
    if (!clean.isEmpty() && Character.isHighSurrogate(clean.charAt(clean.length() - 1))) {
      clean.setLength(clean.length() - 1); // cut inside a pair: JSON cannot carry half of it
    }
    return clean.isEmpty() ? null : clean.toString();
  }
}
