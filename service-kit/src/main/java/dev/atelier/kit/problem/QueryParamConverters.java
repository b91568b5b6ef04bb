package dev.atelier.kit.problem;

import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.ext.ParamConverter;
import jakarta.ws.rs.ext.ParamConverterProvider;
import jakarta.ws.rs.ext.Provider;
import java.lang.annotation.Annotation;
import java.lang.reflect.Type;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;

/**
 * Converts {@code @QueryParam} values of the types services declare (integers, UUIDs) so that a
 * value that does not convert is a 400 naming the parameter. Quarkus REST, following the JAX-RS
 * specification, answers a failed query or path parameter conversion with a bare 404 that says
 * neither which parameter nor that the value was at fault (quarkus#49074); an exception a converter
 * throws that is already a {@code WebApplicationException} passes through unchanged. Path
 * parameters keep the 404: a malformed id names no resource.
 */
@Provider
public class QueryParamConverters implements ParamConverterProvider {

  private record Kind(String description, Function<String, Object> parse) {}

  private static final Kind INTEGER = new Kind("an integer", Integer::valueOf);
  private static final Kind LONG = new Kind("an integer", Long::valueOf);

  private static final Map<Class<?>, Kind> KINDS =
      Map.of(
          Integer.class, INTEGER,
          int.class, INTEGER,
          Long.class, LONG,
          long.class, LONG,
          UUID.class, new Kind("a UUID", UUID::fromString));

  @Override
  public <T> ParamConverter<T> getConverter(
      Class<T> rawType, Type genericType, Annotation[] annotations) {
    Kind kind = KINDS.get(rawType);
    String name = queryParamName(annotations);
    if (kind == null || name == null) {
      return null;
    }
    return new ParamConverter<>() {
      @Override
      @SuppressWarnings("unchecked")
      public T fromString(String value) {
        if (value == null) {
          // The JAX-RS contract; Quarkus REST does not call a converter for an absent parameter.
          throw new IllegalArgumentException("no value for query parameter " + name);
        }
        try {
          return (T) kind.parse().apply(value);
        } catch (RuntimeException e) {
          throw new InvalidQueryParameterException(name, value, kind.description());
        }
      }

      @Override
      public String toString(T value) {
        return String.valueOf(value);
      }
    };
  }

  private static String queryParamName(Annotation[] annotations) {
    if (annotations != null) {
      for (Annotation a : annotations) {
        if (a instanceof QueryParam q) {
          return q.value();
        }
      }
    }
    return null;
  }

  /** A query parameter whose value does not convert; mapped to a 400 problem. */
  public static final class InvalidQueryParameterException extends BadRequestException {

    private static final int MAX_ECHO = 64;

    private final String parameter;

    InvalidQueryParameterException(String parameter, String value, String expected) {
      super(
          "query parameter "
              + parameter
              + " must be "
              + expected
              + ", was '"
              + (value.length() > MAX_ECHO ? value.substring(0, MAX_ECHO) + "..." : value)
              + "'");
      this.parameter = parameter;
    }

    public String parameter() {
      return parameter;
    }
  }
}
