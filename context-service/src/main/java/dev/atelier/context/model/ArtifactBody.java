package dev.atelier.context.model;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * The body of a conditional write ({@code PUT .../artifacts/{name}}): a {@link NewArtifact} whose
 * name comes from the path.
 */
public record ArtifactBody(
    @NotNull ArtifactKind kind,
    @Size(max = 255)
        @Pattern(
            regexp = "^[\\w!#$&^.+-]+/[\\w!#$&^.+-]+( *;.*)?$",
            message = "must be a media type such as application/json")
        String mediaType,
    @NotNull
        @Schema(
            required = true,
            description = "object or array for kind json, string for markdown and text",
            implementation = Object.class)
        JsonNode content,
    @Valid Producer producer) {

  public NewArtifact named(String name) {
    return new NewArtifact(name, kind, mediaType, content, producer);
  }
}
