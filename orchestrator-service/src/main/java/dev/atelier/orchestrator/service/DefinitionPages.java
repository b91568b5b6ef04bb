package dev.atelier.orchestrator.service;

import dev.atelier.kit.problem.ProblemException;
import dev.atelier.orchestrator.repository.VersionedStore;

/**
 * Pages of current roles or workflow definitions, by name: {@code limit} (1 to {@value #MAX_LIMIT},
 * default {@value #MAX_LIMIT}) at a time, the next page after the last name of this one.
 */
public final class DefinitionPages {

  public static final int MAX_LIMIT = 1000;

  private DefinitionPages() {}

  static <T> VersionedStore.Page<T> page(VersionedStore<T> store, Integer limit, String after) {
    int size = limit == null ? MAX_LIMIT : limit;
    if (size < 1 || size > MAX_LIMIT) {
      throw ProblemException.badRequest(
          "invalid-limit", "limit must be between 1 and " + MAX_LIMIT + ", got " + size);
    }
    if (after != null && !DefinitionValidator.NAME.matcher(after).matches()) {
      throw ProblemException.badRequest(
          "invalid-after",
          "after must be a name (the last of the previous page, as its Link header gives it)");
    }
    return store.currentPage(after, size);
  }
}
