package dev.atelier.kit.problem;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.ConstraintViolationException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Request;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.sql.SQLException;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Turns every error a resource can raise into {@code application/problem+json}. Unexpected
 * exceptions become a 500 whose detail says nothing about the code; the exception goes to the log
 * with the trace id.
 */
public class ProblemMappers {

  /** Methods that only read: a NUL they carry was never going to be stored. */
  private static final Set<String> READS = Set.of("GET", "HEAD");

  private static final Logger LOG = Logger.getLogger(ProblemMappers.class);

  @ServerExceptionMapper
  public Response problem(ProblemException e, UriInfo uri) {
    Response response = respond(e.status(), e.slug(), e.title(), e.getMessage(), uri, null);
    if (e.retryAfter() != null) {
      // Whole seconds, at least one (RFC 9110 delay-seconds).
      response.getHeaders().putSingle("Retry-After", Math.max(1, e.retryAfter().toSeconds()));
    }
    return response;
  }

  @ServerExceptionMapper
  public Response invalid(ConstraintViolationException e, UriInfo uri) {
    List<Problem.FieldError> errors =
        e.getConstraintViolations().stream()
            .map(v -> new Problem.FieldError(field(v), v.getMessage()))
            .sorted(Comparator.comparing(Problem.FieldError::field))
            .toList();
    String detail =
        errors.stream()
            .map(f -> f.field() + ": " + f.message())
            .reduce((a, b) -> a + "; " + b)
            .orElse("");
    return respond(400, "validation", "Invalid request", detail, uri, errors);
  }

  /**
   * A body Jackson cannot read. Only a syntax error quotes Jackson's message; other messages name
   * Java types ({@code Cannot construct instance of `dev.atelier...`}), so their detail is a fixed
   * text with the JSON path at most. Jackson wraps a fault inside a property in a mapping exception
   * with the path, so the cause chain decides what the fault is.
   */
  @ServerExceptionMapper
  public Response unreadable(JsonProcessingException e, UriInfo uri) {
    String detail;
    JsonParseException syntax = find(e, JsonParseException.class);
    if (find(e, StreamConstraintsException.class) != null) {
      detail =
          "the request body exceeds the JSON limits (nesting depth, number or text length, or"
              + " count of JSON tokens)";
    } else if (syntax != null) {
      detail = "the request body is not valid JSON: " + syntax.getOriginalMessage();
    } else if (e instanceof InvalidFormatException f) {
      detail = "invalid value for " + path(f) + ": " + f.getValue();
    } else if (e instanceof JsonMappingException m && !m.getPath().isEmpty()) {
      detail =
          e instanceof MismatchedInputException || find(e, InputCoercionException.class) != null
              ? "invalid value for " + path(m)
              // A value that binds but is refused (a ValueInstantiationException from a
              // constructor) or any other mapping fault.
              : "the request body does not match the expected shape at " + path(m);
    } else if (e instanceof MismatchedInputException m) {
      // The body as a whole has the wrong shape: `[]`, `"text"`, `1` where an object is expected.
      detail =
          "the request body must be a JSON " + (isArray(m.getTargetType()) ? "array" : "object");
    } else if (e instanceof JsonMappingException) {
      detail = "the request body does not match the expected shape";
    } else {
      detail = "the request body is not valid JSON: " + e.getOriginalMessage();
    }
    return respond(400, "malformed-body", "Malformed request body", detail, uri, null);
  }

  private static <T extends Throwable> T find(Throwable e, Class<T> type) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
    }
    return null;
  }

  private static boolean isArray(Class<?> type) {
    return type != null && (type.isArray() || Collection.class.isAssignableFrom(type));
  }

  /**
   * Quarkus ships its own mapper for {@link MismatchedInputException} (a wrong-typed value or an
   * unknown enum constant in the body); being more specific than {@code JsonProcessingException} it
   * would win and answer a bare 400. This one is as specific, and an application's mapper takes
   * precedence over the built-in one.
   */
  @ServerExceptionMapper
  public Response mismatched(MismatchedInputException e, UriInfo uri) {
    return unreadable(e, uri);
  }

  @ServerExceptionMapper
  public Response invalidQueryParameter(
      QueryParamConverters.InvalidQueryParameterException e, UriInfo uri) {
    return respond(400, "invalid-parameter", "Bad request", e.getMessage(), uri, null);
  }

  @ServerExceptionMapper
  public Response web(WebApplicationException e, UriInfo uri) {
    int status = e.getResponse().getStatus();
    // Quarkus reports unreadable bodies as a bare 400 with the Jackson exception as cause.
    if (e.getCause() instanceof JsonProcessingException jpe) {
      return unreadable(jpe, uri);
    }
    Response.StatusType type = Response.Status.fromStatusCode(status);
    String title = type == null ? "HTTP " + status : type.getReasonPhrase();
    String detail = status == 404 ? "no resource at " + uri.getPath() : title;
    return respond(status, slugOf(title), title, detail, uri, null);
  }

  @ServerExceptionMapper
  public Response unexpected(Throwable e, UriInfo uri, Request request) {
    if (unstorableText(e) && READS.contains(request.getMethod())) {
      // A lookup stores nothing: a NUL in a path or query parameter only matches nothing.
      return respond(
          400,
          "invalid-parameter",
          "Bad request",
          "the request's parameters hold a NUL character (\\u0000), which no stored value holds",
          uri,
          null);
    }
    if (unstorableText(e)) {
      // Valid JSON can carry a NUL character, which PostgreSQL's text and jsonb cannot hold: the
      // client's input, not our failure. The transaction has rolled back, so nothing was stored.
      return respond(
          400,
          "unstorable-text",
          "Unstorable text",
          "the request contains text the database cannot store: a NUL character (\\u0000)",
          uri,
          null);
    }
    LOG.errorf(e, "unexpected error handling %s", uri.getPath());
    return respond(
        500,
        "internal",
        "Internal error",
        "the request could not be completed; the error is logged with this request's trace id",
        uri,
        null);
  }

  /**
   * Whether PostgreSQL refused a character somewhere in the cause chain: SQLSTATE 22021
   * (character_not_in_repertoire, a NUL in text) or 22P05 (untranslatable_character, a NUL in
   * jsonb). Matched by SQLSTATE, so the kit needs no driver classes.
   */
  private static boolean unstorableText(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SQLException sql
          && ("22021".equals(sql.getSQLState()) || "22P05".equals(sql.getSQLState()))) {
        return true;
      }
    }
    return false;
  }

  private static Response respond(
      int status,
      String slug,
      String title,
      String detail,
      UriInfo uri,
      List<Problem.FieldError> errors) {
    Problem body =
        new Problem(
            Problem.TYPE_BASE + slug,
            title,
            status,
            detail,
            uri == null ? null : uri.getPath(),
            errors);
    return Response.status(status).type(Problem.MEDIA_TYPE).entity(body).build();
  }

  private static String field(ConstraintViolation<?> v) {
    // "submit.request.requirement" -> "requirement": the method and parameter names mean nothing to
    // a client.
    String path = v.getPropertyPath().toString();
    String[] parts = path.split("\\.");
    return parts.length > 2
        ? String.join(".", List.of(parts).subList(2, parts.length))
        : parts[parts.length - 1];
  }

  private static String path(JsonMappingException e) {
    return e.getPath().stream()
        .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
        .reduce((a, b) -> b.startsWith("[") ? a + b : a + "." + b)
        .orElse("body");
  }

  private static String slugOf(String title) {
    return title.toLowerCase().replaceAll("[^a-z0-9]+", "-");
  }
}
