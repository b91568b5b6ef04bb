package dev.atelier.gateway.rest;

import dev.atelier.gateway.budget.Budget;
import dev.atelier.gateway.budget.BudgetPeriod;
import dev.atelier.gateway.budget.BudgetRepository;
import dev.atelier.gateway.budget.BudgetService;
import dev.atelier.kit.problem.ProblemException;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;

/**
 * Budgets in USD ({@code /admin/budgets/{scope}/{key}}): scope {@code global} (key {@code *}),
 * {@code team} (key: the team) or {@code workflow} (key: the workflow id); each with a period,
 * {@code total}, {@code day} or {@code month} (UTC; a workflow budget is always {@code total}). A
 * scope and key can have one budget per period, e.g. a team's daily and monthly limits. Admin key;
 * errors as problem+json. A change takes effect on this replica at once and on the others within
 * {@code gateway.budgets.refresh-interval}.
 */
@Path("/admin/budgets")
@Produces(MediaType.APPLICATION_JSON)
public class AdminBudgetResource {

  private static final Set<String> SCOPES = Set.of(Budget.GLOBAL, Budget.TEAM, Budget.WORKFLOW);

  static final int DEFAULT_PAGE = 100;
  static final int MAX_PAGE = 1000;

  private final BudgetRepository repository;
  private final BudgetService budgets;
  private final AdminAuth admin;
  private final Clock clock;

  AdminBudgetResource(
      BudgetRepository repository, BudgetService budgets, AdminAuth admin, Clock clock) {
    this.repository = repository;
    this.budgets = budgets;
    this.admin = admin;
    this.clock = clock;
  }

  /**
   * A budget to set: limit in USD per period; {@code hard} (default true) rejects calls that do not
   * fit, soft only alerts; {@code period} (default {@code total}) may also be given as {@code
   * ?period=}.
   */
  public record BudgetRequest(BigDecimal limitUsd, Boolean hard, String period) {}

  /**
   * A budget with its current period's spend; remaining = limit - spent - reserved. {@code setBy}:
   * {@code admin} (this API; applies to every call in its scope) or {@code caller} (a workflow
   * budget its calls declare in {@code X-Atelier-Workflow-Budget-Usd}; applies to those calls).
   */
  public record BudgetView(
      UUID id,
      String scope,
      String key,
      String period,
      Instant periodStart,
      BigDecimal limitUsd,
      BigDecimal spentUsd,
      BigDecimal reservedUsd,
      BigDecimal remainingUsd,
      boolean hard,
      Instant updatedAt,
      String setBy) {
    static BudgetView of(Budget b) {
      return new BudgetView(
          b.id(),
          b.scope(),
          b.key(),
          b.period().label(),
          b.periodStart(),
          b.limitUsd().stripTrailingZeros(),
          b.spentUsd().stripTrailingZeros(),
          b.reservedUsd().stripTrailingZeros(),
          b.remainingUsd().stripTrailingZeros(),
          b.hard(),
          b.updatedAt(),
          b.setBy());
    }
  }

  /**
   * A page of budgets.
   *
   * @param nextCursor pass as {@code cursor}, with the same filters, for the next page; null on the
   *     last
   */
  public record BudgetPage(List<BudgetView> items, String nextCursor) {}

  @GET
  @Operation(
      summary =
          "List budgets in (scope, key, period) order, optionally of one scope and/or period."
              + " Keyset-paginated: pass nextCursor as cursor, with the same filters, for the next"
              + " page; nextCursor is null on the last. There is a budget per workflow that"
              + " declared one, so the list is paged")
  public BudgetPage list(
      @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
      @QueryParam("scope") String scope,
      @QueryParam("period") String period,
      @QueryParam("limit") Integer limit,
      @QueryParam("cursor") String cursor)
      throws SQLException {
    admin.require(authorization);
    String s = scope == null ? null : scope(scope);
    BudgetPeriod p = period == null ? null : period(period);
    int n = limit == null ? DEFAULT_PAGE : limit;
    if (n < 1 || n > MAX_PAGE) {
      throw ProblemException.badRequest(
          "limit-exceeded", "limit must be between 1 and " + MAX_PAGE + ", got " + n);
    }
    BudgetRepository.After after = cursor == null ? null : Cursors.decode(cursor);
    // One row more than asked tells whether there is a next page.
    List<Budget> rows = repository.page(s, p, after, n + 1, clock.instant());
    List<Budget> items = rows.size() > n ? rows.subList(0, n) : rows;
    String next = rows.size() > n ? Cursors.encode(items.get(n - 1)) : null;
    return new BudgetPage(items.stream().map(BudgetView::of).toList(), next);
  }

  @GET
  @Path("/{scope}/{key}")
  @Operation(
      summary =
          "One budget with what is spent and reserved in its current period; ?period= picks one"
              + " when the key has several")
  public BudgetView get(
      @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
      @PathParam("scope") String scope,
      @PathParam("key") String key,
      @QueryParam("period") String period)
      throws SQLException {
    admin.require(authorization);
    return BudgetView.of(one(scope, key, period));
  }

  @PUT
  @Path("/{scope}/{key}")
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(summary = "Create a budget or change its limit and kind; what was spent is kept")
  public BudgetView put(
      @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
      @PathParam("scope") String scope,
      @PathParam("key") String key,
      @QueryParam("period") String periodParam,
      BudgetRequest request)
      throws SQLException {
    admin.require(authorization);
    String s = scope(scope);
    String k = key(s, key);
    if (request == null || request.limitUsd() == null) {
      throw ProblemException.badRequest("invalid-budget", "'limitUsd' is required");
    }
    if (request.limitUsd().signum() < 0) {
      throw ProblemException.badRequest("invalid-budget", "'limitUsd' must be >= 0");
    }
    // numeric(24,12): at most 12 decimals and 12 integer digits. Precision alone lets 1e13 (one
    // digit) through, which the column then refuses with a 500.
    BigDecimal limit = request.limitUsd().stripTrailingZeros();
    if (limit.scale() > 12 || limit.precision() - limit.scale() > 12) {
      throw ProblemException.badRequest(
          "invalid-budget", "'limitUsd' allows at most 12 decimals and 12 integer digits");
    }
    if (periodParam != null && request.period() != null && !periodParam.equals(request.period())) {
      throw ProblemException.badRequest(
          "invalid-period", "?period= and 'period' in the body disagree");
    }
    String named = periodParam != null ? periodParam : request.period();
    BudgetPeriod p = named == null ? BudgetPeriod.TOTAL : period(named);
    if (Budget.WORKFLOW.equals(s) && p != BudgetPeriod.TOTAL) {
      throw ProblemException.badRequest(
          "invalid-period", "a workflow budget covers the whole workflow: period must be 'total'");
    }
    Budget b =
        repository.upsert(
            s, k, p, request.limitUsd(), request.hard() == null || request.hard(), clock.instant());
    budgets.refresh();
    return BudgetView.of(b);
  }

  @DELETE
  @Path("/{scope}/{key}")
  @Operation(summary = "Delete a budget (its spend history goes with it); ?period= picks one")
  public void delete(
      @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
      @PathParam("scope") String scope,
      @PathParam("key") String key,
      @QueryParam("period") String period)
      throws SQLException {
    admin.require(authorization);
    Budget b = one(scope, key, period);
    if (!repository.delete(b.scope(), b.key(), b.period())) {
      throw ProblemException.notFound("budget", scope + "/" + key + "/" + b.period().label());
    }
    budgets.refresh();
  }

  /** The budget named by scope, key and (when the key has several) period. */
  private Budget one(String scope, String key, String period) throws SQLException {
    String s = scope(scope);
    String k = key(s, key);
    if (period != null) {
      BudgetPeriod p = period(period);
      return repository
          .find(s, k, p, clock.instant())
          .orElseThrow(() -> ProblemException.notFound("budget", scope + "/" + key + "/" + period));
    }
    List<Budget> found = repository.find(s, k, clock.instant());
    if (found.isEmpty()) {
      throw ProblemException.notFound("budget", scope + "/" + key);
    }
    if (found.size() > 1) {
      throw ProblemException.badRequest(
          "period-required",
          scope
              + "/"
              + key
              + " has budgets for "
              + String.join(", ", found.stream().map(b -> b.period().label()).toList())
              + ": name one with ?period=");
    }
    return found.get(0);
  }

  private static String scope(String scope) {
    if (scope == null || !SCOPES.contains(scope)) {
      throw ProblemException.badRequest(
          "invalid-scope",
          "scope must be 'global', 'team' or 'workflow', not '" + clip(scope) + "'");
    }
    return scope;
  }

  private static BudgetPeriod period(String period) {
    return BudgetPeriod.parse(period)
        .orElseThrow(
            () ->
                ProblemException.badRequest(
                    "invalid-period",
                    "period must be 'total', 'day' or 'month', not '" + clip(period) + "'"));
  }

  private static String key(String scope, String key) {
    if (key == null || key.isBlank() || key.length() > 200) {
      throw ProblemException.badRequest("invalid-key", "the budget key must be 1-200 characters");
    }
    if (Budget.GLOBAL.equals(scope) && !Budget.GLOBAL_KEY.equals(key)) {
      throw ProblemException.badRequest(
          "invalid-key", "the global budget's key is '*' (/admin/budgets/global/*)");
    }
    if (Budget.WORKFLOW.equals(scope)) {
      try {
        // Normalised, so the key matches the workflow id header however it is written.
        return UUID.fromString(key).toString();
      } catch (IllegalArgumentException e) {
        throw ProblemException.badRequest("invalid-key", "a workflow budget's key is its UUID");
      }
    }
    return key;
  }

  private static String clip(String s) {
    return s.length() > 64 ? s.substring(0, 64) + "..." : s;
  }

  /** Opaque page cursors: the last budget's scope, key and period, base64url-encoded. */
  static final class Cursors {

    private static final char SEPARATOR = '\n';

    private Cursors() {}

    static String encode(Budget last) {
      String plain = last.scope() + SEPARATOR + last.period().label() + SEPARATOR + last.key();
      return Base64.getUrlEncoder()
          .withoutPadding()
          .encodeToString(plain.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * @throws ProblemException 400 {@code invalid-cursor} for anything this API did not return
     */
    static BudgetRepository.After decode(String cursor) {
      try {
        String plain =
            new String(Base64.getUrlDecoder().decode(cursor.strip()), StandardCharsets.UTF_8);
        String[] parts = plain.split(String.valueOf(SEPARATOR), 3);
        if (parts.length == 3 && SCOPES.contains(parts[0]) && !parts[2].isEmpty()) {
          Optional<BudgetPeriod> period = BudgetPeriod.parse(parts[1]);
          if (period.isPresent()) {
            return new BudgetRepository.After(parts[0], parts[2], period.get());
          }
        }
      } catch (IllegalArgumentException notBase64) {
        // answered below
      }
      throw ProblemException.badRequest(
          "invalid-cursor", "cursor is not one this API returned as nextCursor");
    }
  }
}
