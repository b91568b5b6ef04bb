package dev.atelier.context.service;

import dev.atelier.kit.problem.ProblemException;

/**
 * What a conditional write expects of the artifact's latest version, from {@code If-Match} or
 * {@code If-None-Match}.
 *
 * @param version the latest version expected; {@link #ANY} for "exists" ({@code If-Match: *}),
 *     {@link #NONE} for "does not exist yet" ({@code If-None-Match: *})
 */
public record Precondition(int version) {

  public static final int ANY = -1;
  public static final int NONE = 0;

  /**
   * Parses the conditional headers of a PUT. One of them is required: an unconditional PUT could
   * silently write over a version its client never saw.
   *
   * @throws ProblemException 428 when neither header is sent, 400 when a header is malformed
   */
  public static Precondition of(String ifMatch, String ifNoneMatch) {
    if (ifMatch != null && !ifMatch.isBlank()) {
      String value = ifMatch.strip();
      if (value.equals("*")) {
        return new Precondition(ANY);
      }
      if (value.length() >= 3 && value.startsWith("\"") && value.endsWith("\"")) {
        try {
          int version = Integer.parseInt(value.substring(1, value.length() - 1));
          if (version >= 1) {
            return new Precondition(version);
          }
        } catch (NumberFormatException e) {
          // falls through to the 400 below
        }
      }
      throw ProblemException.badRequest(
          "invalid-if-match",
          "If-Match must be * or the quoted version of the latest artifact version, e.g. \"3\"");
    }
    if (ifNoneMatch != null && ifNoneMatch.strip().equals("*")) {
      return new Precondition(NONE);
    }
    if (ifNoneMatch != null && !ifNoneMatch.isBlank()) {
      throw ProblemException.badRequest(
          "invalid-if-none-match", "If-None-Match on a write can only be *");
    }
    throw new ProblemException(
        428,
        "precondition-required",
        "Precondition required",
        "PUT needs If-Match: \"<latest version>\" (from the ETag of a read), If-Match: * or,"
            + " to create the artifact, If-None-Match: *");
  }

  /**
   * @param latest the artifact's latest version before this write, 0 when it has none
   * @throws ProblemException 412 when it is not the expected one
   */
  void check(String ref, int latest) {
    boolean ok =
        switch (version) {
          case ANY -> latest >= 1;
          case NONE -> latest == 0;
          default -> latest == version;
        };
    if (!ok) {
      String expected =
          switch (version) {
            case ANY -> "an existing version";
            case NONE -> "no version";
            default -> "version " + version;
          };
      throw new ProblemException(
          412,
          "precondition-failed",
          "Precondition failed",
          ref
              + ": expected "
              + expected
              + " but the latest is "
              + (latest == 0 ? "none" : "version " + latest)
              + "; read it again and retry against the version you read");
    }
  }
}
