package dev.atelier.contracts;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Objects;

/**
 * A reference to one version of an artifact in context-service, written {@code name@version}.
 *
 * @param name artifact name within its workflow, for example {@code analysis}
 * @param version version number, starting at 1
 */
public record ArtifactRef(String name, int version) {

  public ArtifactRef {
    Objects.requireNonNull(name, "name");
    if (name.isBlank() || name.contains("@") || name.chars().anyMatch(Character::isISOControl)) {
      throw new IllegalArgumentException(
          "artifact name must be non-blank and must not contain '@' or control characters: "
              + name.replaceAll("\\p{Cntrl}", "?"));
    }
    if (version < 1) {
      throw new IllegalArgumentException("artifact version must be >= 1: " + version);
    }
  }

  /** Parses {@code name@version}. */
  @JsonCreator
  public static ArtifactRef parse(String text) {
    int at = text == null ? -1 : text.lastIndexOf('@');
    if (at <= 0 || at == text.length() - 1) {
      throw new IllegalArgumentException("expected name@version, got: " + text);
    }
    try {
      return new ArtifactRef(text.substring(0, at), Integer.parseInt(text.substring(at + 1)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("expected name@version, got: " + text, e);
    }
  }

  @JsonValue
  @Override
  public String toString() {
    return name + "@" + version;
  }
}
