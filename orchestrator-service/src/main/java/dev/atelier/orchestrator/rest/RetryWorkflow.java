package dev.atelier.orchestrator.rest;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.kit.problem.ProblemException;
import java.io.IOException;
import java.math.BigDecimal;
import java.util.Iterator;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * The optional body of {@code POST /api/v1/workflows/{id}/retry}.
 *
 * @param budgetUsd a new budget for the workflow, above its current budget and its spend
 */
@Schema(name = "RetryWorkflow")
public record RetryWorkflow(
    @Schema(description = "raises the workflow's budget before it resumes", minimum = "0")
        BigDecimal budgetUsd) {

  private static final int MAX_INTEGER_DIGITS = 12;
  private static final int MAX_FRACTION_DIGITS = 6;

  /**
   * Reads the body: empty, {@code {}} or {@code {"budgetUsd": n}}. Anything else is a {@code 400}
   * that names the fault, before anything is looked at or changed.
   */
  static RetryWorkflow parse(String body, ObjectMapper mapper) {
    if (body == null || body.isBlank()) {
      return new RetryWorkflow(null);
    }
    JsonNode root;
    try {
      // Decimals as BigDecimal: read as a double, 1e400 is Infinity (a 500 further on) and an
      // 18-digit amount is rounded before it is checked and stored.
      root = mapper.reader().with(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).readTree(body);
    } catch (IOException e) {
      throw invalid("the body is not JSON; send {\"budgetUsd\": <number>} or nothing");
    }
    if (root == null || !root.isObject()) {
      throw invalid("the body must be a JSON object such as {\"budgetUsd\": 25}");
    }
    for (Iterator<String> names = root.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!name.equals("budgetUsd")) {
        throw invalid("unknown field '" + name + "'; the only field is budgetUsd");
      }
    }
    JsonNode budget = root.get("budgetUsd");
    if (budget == null || budget.isNull()) {
      return new RetryWorkflow(null);
    }
    if (!budget.isNumber()) {
      throw invalid("budgetUsd must be a number of US dollars, such as 25 or 12.5");
    }
    BigDecimal value = budget.decimalValue();
    if (value.signum() <= 0) {
      throw invalid("budgetUsd must be greater than 0");
    }
    BigDecimal stripped = value.stripTrailingZeros();
    if (stripped.scale() > MAX_FRACTION_DIGITS
        || stripped.precision() - stripped.scale() > MAX_INTEGER_DIGITS) {
      throw invalid(
          "budgetUsd has at most %d digits before the point and %d after"
              .formatted(MAX_INTEGER_DIGITS, MAX_FRACTION_DIGITS));
    }
    return new RetryWorkflow(value);
  }

  private static ProblemException invalid(String detail) {
    return ProblemException.badRequest("invalid-retry", detail);
  }
}
