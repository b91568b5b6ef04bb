package dev.atelier.tracking.rest;

import dev.atelier.kit.problem.Problem;
import dev.atelier.kit.problem.ProblemException;
import dev.atelier.tracking.config.TrackingConfig;
import dev.atelier.tracking.model.BudgetEvent;
import dev.atelier.tracking.model.BudgetEventFilter;
import dev.atelier.tracking.model.Page;
import dev.atelier.tracking.service.BudgetEventService;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.time.Instant;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The history of budget threshold crossings announced by the gateway. */
@Path("/api/v1/budget-events")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Budget events", description = "Budget thresholds (50/80/100 %) crossed")
public class BudgetEventResource {

  private final BudgetEventService events;
  private final TrackingConfig config;

  BudgetEventResource(BudgetEventService events, TrackingConfig config) {
    this.events = events;
    this.config = config;
  }

  @GET
  @Operation(
      summary = "List budget threshold crossings",
      description =
          "Newest first (occurredAt, then id, descending). Keyset-paginated: pass nextCursor as"
              + " cursor, with the same filters, for the next page; nextCursor is null on the last"
              + " page. from is inclusive, to exclusive.")
  @APIResponse(responseCode = "200", description = "A page of budget events")
  @APIResponse(
      responseCode = "400",
      description = "A malformed parameter, an unknown scope, from after to, or limit out of range",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  public Page<BudgetEvent> list(
      @Parameter(
              description = "Budget scope",
              schema =
                  @Schema(
                      type = SchemaType.STRING,
                      enumeration = {"global", "team", "workflow"}))
          @QueryParam("scope")
          String scope,
      @Parameter(description = "The budget's scope key: team name, workflow id, or * (global)")
          @QueryParam("key")
          String key,
      @Parameter(description = "Workflow id (workflow budgets)", schema = @Schema(format = "uuid"))
          @QueryParam("workflowId")
          String workflowId,
      @Parameter(
              description = "Inclusive lower bound on occurredAt, ISO-8601",
              schema = @Schema(format = "date-time"))
          @QueryParam("from")
          String from,
      @Parameter(
              description = "Exclusive upper bound on occurredAt, ISO-8601",
              schema = @Schema(format = "date-time"))
          @QueryParam("to")
          String to,
      @Parameter(description = "Page size, 1 to the configured maximum (default 50)")
          @QueryParam("limit")
          String limit,
      @Parameter(description = "nextCursor of the previous page") @QueryParam("cursor")
          String cursor) {
    String scopeValue = QueryParams.text(scope);
    if (scopeValue != null && !BudgetEventService.SCOPES.contains(scopeValue)) {
      throw ProblemException.badRequest(
          "invalid-parameter", "scope must be global, team or workflow, got '" + scope + "'");
    }
    Instant fromTime = QueryParams.instant("from", from);
    Instant toTime = QueryParams.instant("to", to);
    QueryParams.range(fromTime, toTime);
    BudgetEventFilter filter =
        new BudgetEventFilter(
            scopeValue,
            QueryParams.text(key),
            QueryParams.uuid("workflowId", workflowId),
            fromTime,
            toTime);
    int pageSize =
        QueryParams.limit("limit", limit, config.query().defaultLimit(), config.query().maxLimit());
    return events.list(filter, QueryParams.cursor(cursor), pageSize);
  }
}
