package dev.atelier.gateway.rest;

import dev.atelier.gateway.budget.Budget;
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
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;

/**
 * Budgets in USD per team or per workflow ({@code /admin/budgets/{scope}/{key}}, scope {@code team}
 * or {@code workflow}). Admin key; errors as problem+json. A change takes effect on this replica at
 * once and on the others within {@code gateway.budgets.refresh-interval}.
 */
@Path("/admin/budgets")
@Produces(MediaType.APPLICATION_JSON)
public class AdminBudgetResource {

  private final BudgetRepository repository;
  private final BudgetService budgets;
  private final AdminAuth admin;

  AdminBudgetResource(BudgetRepository repository, BudgetService budgets, AdminAuth admin) {
    this.repository = repository;
    this.budgets = budgets;
    this.admin = admin;
  }

  /** A budget to set: limit in USD; {@code hard} (default true) rejects calls that do not fit. */
  public record BudgetRequest(BigDecimal limitUsd, Boolean hard) {}

  /** A budget as stored; remaining = limit - spent - reserved. */
  public record BudgetView(
      String scope,
      String key,
      BigDecimal limitUsd,
      BigDecimal spentUsd,
      BigDecimal reservedUsd,
      BigDecimal remainingUsd,
      boolean hard,
      Instant updatedAt) {
    static BudgetView of(Budget b) {
      return new BudgetView(
          b.scope(),
          b.key(),
          b.limitUsd().stripTrailingZeros(),
          b.spentUsd().stripTrailingZeros(),
          b.reservedUsd().stripTrailingZeros(),
          b.remainingUsd().stripTrailingZeros(),
          b.hard(),
          b.updatedAt());
    }
  }

  @GET
  @Operation(summary = "List budgets, optionally of one scope (team or workflow)")
  public List<BudgetView> list(
      @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
      @QueryParam("scope") String scope)
      throws SQLException {
    admin.require(authorization);
    if (scope != null) {
      scope(scope);
    }
    return repository.findAll().stream()
        .filter(b -> scope == null || scope.equals(b.scope()))
        .map(BudgetView::of)
        .toList();
  }

  @GET
  @Path("/{scope}/{key}")
  @Operation(summary = "One budget with what is spent and reserved")
  public BudgetView get(
      @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
      @PathParam("scope") String scope,
      @PathParam("key") String key)
      throws SQLException {
    admin.require(authorization);
    String s = scope(scope);
    return repository
        .find(s, key(s, key))
        .map(BudgetView::of)
        .orElseThrow(() -> ProblemException.notFound("budget", scope + "/" + key));
  }

  @PUT
  @Path("/{scope}/{key}")
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(summary = "Create a budget or change its limit; what was spent is kept")
  public BudgetView put(
      @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
      @PathParam("scope") String scope,
      @PathParam("key") String key,
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
    if (request.limitUsd().scale() > 12 || request.limitUsd().precision() > 24) {
      throw ProblemException.badRequest(
          "invalid-budget", "'limitUsd' allows at most 12 decimals and 12 integer digits");
    }
    Budget b =
        repository.upsert(s, k, request.limitUsd(), request.hard() == null || request.hard());
    budgets.refresh();
    return BudgetView.of(b);
  }

  @DELETE
  @Path("/{scope}/{key}")
  @Operation(summary = "Delete a budget (its spend history goes with it)")
  public void delete(
      @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
      @PathParam("scope") String scope,
      @PathParam("key") String key)
      throws SQLException {
    admin.require(authorization);
    String s = scope(scope);
    if (!repository.delete(s, key(s, key))) {
      throw ProblemException.notFound("budget", scope + "/" + key);
    }
    budgets.refresh();
  }

  private static String scope(String scope) {
    if (!Budget.TEAM.equals(scope) && !Budget.WORKFLOW.equals(scope)) {
      throw ProblemException.badRequest(
          "invalid-scope", "scope must be 'team' or 'workflow', not '" + scope + "'");
    }
    return scope;
  }

  private static String key(String scope, String key) {
    if (key == null || key.isBlank() || key.length() > 200) {
      throw ProblemException.badRequest("invalid-key", "the budget key must be 1-200 characters");
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
}
