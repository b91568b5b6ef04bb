package dev.atelier.context.model;

import com.fasterxml.jackson.annotation.JsonValue;

/** What an artifact's content is, which decides the JSON shape it must have. */
public enum ArtifactKind {
  /** A JSON object or array, typically an agent's structured output. */
  JSON("json", "application/json"),
  /** A Markdown document, sent and returned as a JSON string. */
  MARKDOWN("markdown", "text/markdown"),
  /** Plain text, sent and returned as a JSON string. */
  TEXT("text", "text/plain");

  private final String wire;
  private final String defaultMediaType;

  ArtifactKind(String wire, String defaultMediaType) {
    this.wire = wire;
    this.defaultMediaType = defaultMediaType;
  }

  /** The lower-case name used in JSON and in the database; Jackson also reads it back with this. */
  @JsonValue
  public String wire() {
    return wire;
  }

  /** The media type assumed when a write names none. */
  public String defaultMediaType() {
    return defaultMediaType;
  }

  public static ArtifactKind fromWire(String wire) {
    for (ArtifactKind kind : values()) {
      if (kind.wire.equals(wire)) {
        return kind;
      }
    }
    throw new IllegalArgumentException("unknown artifact kind: " + wire);
  }
}
