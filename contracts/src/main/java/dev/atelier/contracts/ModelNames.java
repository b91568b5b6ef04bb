package dev.atelier.contracts;

/**
 * What a model name must be to be routed, priced and recorded: the gateway refuses a call naming
 * another, so the orchestrator refuses a role naming one rather than let every step of it fail.
 */
public final class ModelNames {

  /** The longest model name, in characters. */
  public static final int MAX_LENGTH = 256;

  private ModelNames() {}

  /**
   * Why {@code name} cannot name a model (completing "'model' ..."), or null when it can: longer
   * than {@value #MAX_LENGTH} characters, a control character (PostgreSQL's text cannot store NUL),
   * or half of a UTF-16 surrogate pair (no text encoding carries it). Blank names are the caller's
   * to judge.
   */
  public static String fault(String name) {
    if (name.length() > MAX_LENGTH) {
      return "is longer than " + MAX_LENGTH + " characters";
    }
    if (name.chars().anyMatch(Character::isISOControl)) {
      return "must not contain control characters";
    }
    if (Utf16.firstUnpairedSurrogate(name) >= 0) {
      return "must not contain half of a UTF-16 surrogate pair";
    }
    return null;
  }
}
