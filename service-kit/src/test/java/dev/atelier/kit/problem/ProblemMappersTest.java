package dev.atelier.kit.problem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What a client reads about a body Jackson cannot bind: the fault and where, never a Java type
 * (Jackson's own messages name them, {@code Cannot construct instance of `dev.atelier...`}).
 */
class ProblemMappersTest {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** A request body, as a resource declares one. */
  record Submission(String requirement, Budget budget, Map<String, Object> metadata) {}

  record Budget(String currency, List<Integer> limits) {
    Budget {
      if ("".equals(currency)) {
        throw new IllegalArgumentException("currency of " + Budget.class.getName());
      }
    }
  }

  record Strict(String name) {
    Strict {
      java.util.Objects.requireNonNull(name);
    }
  }

  static Stream<Arguments> bodies() {
    String deep = "[".repeat(1200) + "]".repeat(1200);
    return Stream.of(
        Arguments.of(Submission.class, "[]", "the request body must be a JSON object"),
        Arguments.of(Submission.class, "\"text\"", "the request body must be a JSON object"),
        Arguments.of(List.class, "{}", "the request body must be a JSON array"),
        Arguments.of(Strict.class, "{}", "the request body does not match the expected shape"),
        Arguments.of(
            Submission.class,
            "{\"budget\":{\"currency\":\"\"}}",
            "the request body does not match the expected shape at budget"),
        Arguments.of(Submission.class, "{\"budget\":[]}", "invalid value for budget"),
        Arguments.of(
            Submission.class,
            "{\"budget\":{\"limits\":[\"x\"]}}",
            "invalid value for budget.limits[0]: x"),
        Arguments.of(
            Object.class,
            deep,
            "the request body exceeds the JSON limits (nesting depth, number or text length, or"
                + " count of JSON tokens)"),
        Arguments.of(
            Submission.class,
            "{\"metadata\":{\"a\":" + deep + "}}",
            "the request body exceeds the JSON limits (nesting depth, number or text length, or"
                + " count of JSON tokens)"),
        Arguments.of(
            Submission.class,
            "{\"requirement\": tru}",
            "the request body is not valid JSON: Unrecognized token 'tru'"));
  }

  @ParameterizedTest
  @MethodSource("bodies")
  void theDetailNamesTheFaultWithoutJavaTypes(Class<?> type, String body, String expected) {
    JsonProcessingException e =
        catchThrowableOfType(JsonProcessingException.class, () -> MAPPER.readValue(body, type));

    Response response = new ProblemMappers().unreadable(e, null);

    Problem problem = (Problem) response.getEntity();
    assertThat(response.getStatus()).isEqualTo(400);
    assertThat(problem.detail()).startsWith(expected);
    assertThat(problem.detail()).doesNotContain("dev.atelier", "java.", "`", "Budget");
  }
}
