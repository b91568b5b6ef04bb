package dev.atelier.context.service;

import dev.atelier.context.config.ArtifactLimits;
import dev.atelier.context.model.SearchHit;
import dev.atelier.context.repository.ArtifactRepository;
import dev.atelier.kit.problem.ProblemException;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

/**
 * Full-text search (PostgreSQL text search, English stemming) over the latest version of each
 * artifact, one workflow's or every workflow's. Older versions are not searched: they would crowd
 * the results with near-copies of one artifact.
 */
@ApplicationScoped
public class ArtifactSearch {

  public static final int DEFAULT_LIMIT = 20;
  public static final int MAX_LIMIT = 100;
  static final int MAX_QUERY_LENGTH = 500;

  private final ArtifactRepository repository;
  private final ArtifactLimits limits;

  ArtifactSearch(ArtifactRepository repository, ArtifactLimits limits) {
    this.repository = repository;
    this.limits = limits;
  }

  /**
   * @param query web-search syntax: words, "quoted phrases", {@code or}, {@code -excluded}
   * @param workflowId null for every workflow
   * @param limit null for {@link #DEFAULT_LIMIT}
   * @throws ProblemException 400 for a blank or over-long query, a limit outside 1..100, or a
   *     search of every workflow with excluded words only; 503 {@code query-timeout} for a search
   *     the database cancelled at {@code context.artifacts.search-timeout}
   */
  public List<SearchHit> search(String query, UUID workflowId, Integer limit) {
    if (query == null || query.isBlank()) {
      throw ProblemException.badRequest("invalid-query", "the q parameter must not be blank");
    }
    if (query.length() > MAX_QUERY_LENGTH || query.indexOf('\0') >= 0) {
      throw ProblemException.badRequest(
          "invalid-query",
          "the q parameter must be at most " + MAX_QUERY_LENGTH + " characters, without U+0000");
    }
    int n = limit == null ? DEFAULT_LIMIT : limit;
    if (n < 1 || n > MAX_LIMIT) {
      throw ProblemException.badRequest(
          "invalid-limit", "limit must be between 1 and " + MAX_LIMIT + ", got " + n);
    }
    String q = query.strip();
    if (workflowId == null && !repository.indexable(q)) {
      // Within one workflow it is a few rows; across all of them, a scan of every artifact.
      throw ProblemException.badRequest(
          "invalid-query",
          "the q parameter must name a word every match contains: '"
              + q
              + "' (excluded words only, or 'or' with an excluded word) matches nearly every"
              + " artifact; give workflowId to search one workflow that way");
    }
    Duration timeout = limits.searchTimeout();
    try {
      return repository.search(q, workflowId, n, timeout);
    } catch (ArtifactRepository.QueryCancelledException e) {
      // A search holds a pooled connection the step path needs: it does not get to keep it.
      throw new ProblemException(
          503,
          "query-timeout",
          "Query timeout",
          "the search ran past "
              + Math.max(1, timeout.toSeconds())
              + " s (ARTIFACT_SEARCH_TIMEOUT) and was cancelled: give workflowId, or words that"
              + " fewer artifacts contain");
    }
  }
}
