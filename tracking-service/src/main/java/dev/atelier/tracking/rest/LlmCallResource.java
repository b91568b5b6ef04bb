package dev.atelier.tracking.rest;

import dev.atelier.kit.problem.Problem;
import dev.atelier.kit.problem.ProblemException;
import dev.atelier.tracking.config.TrackingConfig;
import dev.atelier.tracking.model.LlmCall;
import dev.atelier.tracking.model.LlmCallFilter;
import dev.atelier.tracking.model.Page;
import dev.atelier.tracking.service.LedgerService;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.time.Instant;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The ledger's rows: one per LLM call, filtered and paged newest first. */
@Path("/api/v1/llm-calls")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "LLM calls", description = "The ledger of every LLM call")
public class LlmCallResource {

  private final LedgerService ledger;
  private final TrackingConfig config;

  LlmCallResource(LedgerService ledger, TrackingConfig config) {
    this.ledger = ledger;
    this.config = config;
  }

  @GET
  @Operation(
      summary = "List LLM calls",
      description =
          "Newest first (occurredAt, then id, descending). Keyset-paginated: pass nextCursor as"
              + " cursor, with the same filters, for the next page; nextCursor is null on the last"
              + " page. from is inclusive, to exclusive.")
  @APIResponse(responseCode = "200", description = "A page of calls")
  @APIResponse(
      responseCode = "400",
      description = "A malformed parameter, from after to, or limit out of range",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  public Page<LlmCall> list(
      @Parameter(description = "Workflow id", schema = @Schema(format = "uuid"))
          @QueryParam("workflowId")
          String workflowId,
      @QueryParam("stepId") String stepId,
      @QueryParam("agent") String agent,
      @QueryParam("conversationId") String conversationId,
      @QueryParam("team") String team,
      @QueryParam("provider") String provider,
      @Parameter(description = "The model that answered, or the one requested when none did")
          @QueryParam("model")
          String model,
      @Parameter(description = "ok or error") @QueryParam("status") String status,
      @Parameter(
              description = "Inclusive lower bound, ISO-8601",
              schema = @Schema(format = "date-time"))
          @QueryParam("from")
          String from,
      @Parameter(
              description = "Exclusive upper bound, ISO-8601",
              schema = @Schema(format = "date-time"))
          @QueryParam("to")
          String to,
      @Parameter(description = "Page size, 1 to 500 (default 50)") @QueryParam("limit")
          String limit,
      @Parameter(description = "nextCursor of the previous page") @QueryParam("cursor")
          String cursor) {
    Instant fromTime = QueryParams.instant("from", from);
    Instant toTime = QueryParams.instant("to", to);
    QueryParams.range(fromTime, toTime);
    LlmCallFilter filter =
        new LlmCallFilter(
            QueryParams.uuid("workflowId", workflowId),
            QueryParams.text(stepId),
            QueryParams.text(agent),
            QueryParams.text(conversationId),
            QueryParams.text(team),
            QueryParams.text(provider),
            QueryParams.text(model),
            QueryParams.status(status),
            fromTime,
            toTime);
    int pageSize =
        QueryParams.limit("limit", limit, config.query().defaultLimit(), config.query().maxLimit());
    return ledger.list(filter, QueryParams.cursor(cursor), pageSize);
  }

  @GET
  @Path("/{id}")
  @Operation(summary = "Get one LLM call by its id (the LlmCallRecorded event id)")
  @APIResponse(responseCode = "200", description = "The call")
  @APIResponse(
      responseCode = "400",
      description = "The id is not a UUID",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  @APIResponse(
      responseCode = "404",
      description = "No such call",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  public LlmCall get(@Parameter(schema = @Schema(format = "uuid")) @PathParam("id") String id) {
    var callId = QueryParams.uuid("id", id);
    return ledger.find(callId).orElseThrow(() -> ProblemException.notFound("LLM call", callId));
  }
}
