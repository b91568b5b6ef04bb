package dev.atelier.context.model;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * The body of an artifact write: a new version of the named artifact.
 *
 * @param mediaType optional; defaults from the kind ({@code application/json}, {@code
 *     text/markdown}, {@code text/plain})
 * @param content a JSON object or array for kind {@code json}, a string otherwise
 * @param producer optional attribution to the step attempt and agent that wrote it
 */
public record NewArtifact(
    @NotNull @Pattern(regexp = NAME_PATTERN, message = "must match " + NAME_PATTERN) String name,
    @NotNull ArtifactKind kind,
    @Size(max = 255)
        @Pattern(
            // Parameters: anything but half of a UTF-16 pair, which PostgreSQL would store as '?'.
            regexp = "^[\\w!#$&^.+-]+/[\\w!#$&^.+-]+( *;[^\\p{Cs}]*)?$",
            message = "must be a media type such as application/json")
        String mediaType,
    @NotNull
        @Schema(
            required = true,
            description = "object or array for kind json, string for markdown and text",
            implementation = Object.class)
        JsonNode content,
    @Valid Producer producer) {

  public static final String NAME_PATTERN = "^[a-z0-9][a-z0-9._-]{0,99}$";

  /** The media type to store: the one given, else the kind's default. */
  public String effectiveMediaType() {
    return mediaType == null || mediaType.isBlank() ? kind.defaultMediaType() : mediaType;
  }
}
