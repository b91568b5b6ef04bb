package dev.atelier.context.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * The answer to a batch read.
 *
 * @param artifacts the versions asked for, with content, in the order of the request's refs
 * @param written for each asked key that has written a version, that version with content; keys
 *     that wrote nothing are absent
 * @param claim the answer to the request's {@code claim}; absent when it made none
 */
public record ArtifactReadResult(
    List<ArtifactVersion> artifacts,
    Map<String, ArtifactVersion> written,
    @JsonInclude(JsonInclude.Include.NON_NULL) ClaimState claim) {}
