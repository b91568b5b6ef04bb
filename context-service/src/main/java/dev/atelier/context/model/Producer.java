package dev.atelier.context.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Positive;
import jakarta.validation.constraints.Size;

/**
 * Which step attempt and agent wrote an artifact version. Informational: context-service does not
 * check it against the orchestrator.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Producer(
    @Size(max = 100) @Pattern(regexp = WHOLE, message = HALF_PAIR) String stepId,
    @Size(max = 100) @Pattern(regexp = WHOLE, message = HALF_PAIR) String stepKey,
    @Positive Integer attempt,
    @Size(max = 100) @Pattern(regexp = WHOLE, message = HALF_PAIR) String agent,
    @Positive Integer agentVersion) {

  /**
   * Text without half of a UTF-16 pair: a lone surrogate is not a character, and the database
   * driver would store it as {@code ?}. (A whole pair is one code point, which {@code \p{Cs}} does
   * not match.)
   */
  public static final String WHOLE = "^[^\\p{Cs}]*$";

  public static final String HALF_PAIR =
      "must not contain an unpaired surrogate (half of a UTF-16 pair)";
}
