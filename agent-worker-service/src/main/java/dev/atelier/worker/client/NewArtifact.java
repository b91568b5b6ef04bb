package dev.atelier.worker.client;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The body of an artifact write.
 *
 * @param kind {@code json} or {@code markdown}
 * @param content a JSON object for {@code json}, a string for {@code markdown}
 */
public record NewArtifact(
    String name, String kind, String mediaType, JsonNode content, Producer producer) {

  public static final String KIND_JSON = "json";
  public static final String KIND_MARKDOWN = "markdown";
}
