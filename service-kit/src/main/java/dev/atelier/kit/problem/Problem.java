package dev.atelier.kit.problem;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * An RFC 9457 problem detail. {@code type} is a URI that names the kind of problem, stable for
 * clients to switch on.
 *
 * @param errors per-field violations, when the request body failed validation
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(
    String type,
    String title,
    int status,
    String detail,
    String instance,
    List<FieldError> errors) {

  public static final String MEDIA_TYPE = "application/problem+json";
  public static final String TYPE_BASE = "https://atelier.dev/problems/";

  /** One invalid field. */
  public record FieldError(String field, String message) {}
}
