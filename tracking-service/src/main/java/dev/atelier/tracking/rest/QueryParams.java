package dev.atelier.tracking.rest;

import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.kit.db.StorableTime;
import dev.atelier.kit.problem.ProblemException;
import dev.atelier.tracking.model.PageCursor;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.UUID;

/**
 * Parses query and path parameters into typed values, answering 400 with the parameter's name when
 * one is malformed. (Declaring them as UUID or Instant would let JAX-RS reject bad values with a
 * bare 404, which says nothing useful.) Blank values count as absent.
 */
final class QueryParams {

  private QueryParams() {}

  /** The id in a path: required, so a blank one is as malformed as any non-UUID (400). */
  static UUID pathId(String name, String value) {
    if (isBlank(value)) {
      throw ProblemException.badRequest(
          "invalid-parameter", name + " must be a UUID, got a blank one");
    }
    return uuid(name, value);
  }

  static UUID uuid(String name, String value) {
    if (isBlank(value)) {
      return null;
    }
    try {
      // UUID.fromString accepts short forms such as "1-2-3-4-5"; insist on the canonical one.
      UUID id = UUID.fromString(value);
      if (!id.toString().equalsIgnoreCase(value)) {
        throw new IllegalArgumentException(value);
      }
      return id;
    } catch (IllegalArgumentException e) {
      throw ProblemException.badRequest(
          "invalid-parameter", name + " must be a UUID, got '" + value + "'");
    }
  }

  static Instant instant(String name, String value) {
    if (isBlank(value)) {
      return null;
    }
    Instant instant;
    try {
      instant = Instant.parse(value);
    } catch (DateTimeParseException e) {
      throw ProblemException.badRequest(
          "invalid-parameter",
          name + " must be an ISO-8601 instant such as 2025-01-31T00:00:00Z, got '" + value + "'");
    }
    if (!StorableTime.holds(instant)) {
      throw ProblemException.badRequest(
          "invalid-parameter",
          name
              + " must be between "
              + StorableTime.MIN
              + " and "
              + StorableTime.MAX
              + ", got '"
              + value
              + "'");
    }
    return instant;
  }

  /** Checks that {@code from} (inclusive) is not after {@code to} (exclusive). */
  static void range(Instant from, Instant to) {
    if (from != null && to != null && from.isAfter(to)) {
      throw ProblemException.badRequest("invalid-range", "from must not be after to");
    }
  }

  /** A page or group count between 1 and {@code max}; {@code fallback} when absent. */
  static int limit(String name, String value, int fallback, int max) {
    if (isBlank(value)) {
      return fallback;
    }
    int limit;
    try {
      limit = Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw ProblemException.badRequest(
          "invalid-parameter", name + " must be an integer, got '" + value + "'");
    }
    if (limit < 1 || limit > max) {
      throw ProblemException.badRequest(
          "limit-exceeded", name + " must be between 1 and " + max + ", got " + limit);
    }
    return limit;
  }

  static String status(String value) {
    if (isBlank(value)) {
      return null;
    }
    if (!LlmCallRecorded.STATUS_OK.equals(value) && !LlmCallRecorded.STATUS_ERROR.equals(value)) {
      throw ProblemException.badRequest(
          "invalid-parameter", "status must be ok or error, got '" + value + "'");
    }
    return value;
  }

  static PageCursor cursor(String value) {
    if (isBlank(value)) {
      return null;
    }
    try {
      return PageCursor.decode(value);
    } catch (IllegalArgumentException e) {
      throw ProblemException.badRequest(
          "invalid-cursor", "cursor is not one this service returned as nextCursor");
    }
  }

  static String text(String value) {
    return isBlank(value) ? null : value;
  }

  private static boolean isBlank(String value) {
    return value == null || value.isBlank();
  }
}
