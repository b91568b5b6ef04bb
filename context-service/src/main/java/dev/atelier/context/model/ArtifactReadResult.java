package dev.atelier.context.model;

import java.util.List;
import java.util.Map;

/**
 * The answer to a batch read.
 *
 * @param artifacts the versions asked for, with content, in the order of the request's refs
 * @param written for each asked key that has written a version, that version with content; keys
 *     that wrote nothing are absent
 */
public record ArtifactReadResult(
    List<ArtifactVersion> artifacts, Map<String, ArtifactVersion> written) {}
