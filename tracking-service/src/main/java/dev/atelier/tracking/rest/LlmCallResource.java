package dev.atelier.tracking.rest;

import dev.atelier.kit.problem.Problem;
import dev.atelier.kit.problem.ProblemException;
import dev.atelier.tracking.config.TrackingConfig;
import dev.atelier.tracking.model.LlmCall;
import dev.atelier.tracking.model.LlmCallFilter;
import dev.atelier.tracking.model.Page;
import dev.atelier.tracking.service.ExportSlots;
import dev.atelier.tracking.service.LedgerService;
import io.vertx.core.http.HttpServerRequest;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
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
  private final ExportSlots exports;

  LlmCallResource(LedgerService ledger, TrackingConfig config, ExportSlots exports) {
    this.ledger = ledger;
    this.exports = exports;
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
    LlmCallFilter filter =
        filter(workflowId, stepId, agent, conversationId, team, provider, model, status, from, to);
    int pageSize =
        QueryParams.limit("limit", limit, config.query().defaultLimit(), config.query().maxLimit());
    return ledger.list(filter, QueryParams.cursor(cursor), pageSize);
  }

  @GET
  // qs < 1: a client that accepts anything (*/*) gets JSON, CSV only when it asks for it.
  @Produces(Csv.PRODUCES)
  @Operation(
      summary = "Export LLM calls as CSV",
      description =
          "Every call matching the filters (no paging), newest first, streamed as RFC 4180 CSV with"
              + " a header row; asked for with Accept: text/csv or format=csv. Costs are exact"
              + " decimals; an unknown cost is an empty field.")
  @APIResponse(
      responseCode = "200",
      description = "The calls",
      content = @Content(mediaType = Csv.MEDIA_TYPE))
  @APIResponse(
      responseCode = "400",
      description = "A malformed parameter, from after to, or a limit or cursor",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  @APIResponse(
      responseCode = "503",
      description =
          "TRACKING_EXPORT_CONCURRENCY exports already run (export-busy); Retry-After says when to"
              + " ask again",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  public Response export(
      @QueryParam("workflowId") String workflowId,
      @QueryParam("stepId") String stepId,
      @QueryParam("agent") String agent,
      @QueryParam("conversationId") String conversationId,
      @QueryParam("team") String team,
      @QueryParam("provider") String provider,
      @QueryParam("model") String model,
      @QueryParam("status") String status,
      @QueryParam("from") String from,
      @QueryParam("to") String to,
      @Parameter(description = "Not accepted: the export is not paged") @QueryParam("limit")
          String limit,
      @Parameter(description = "Not accepted: the export is not paged") @QueryParam("cursor")
          String cursor,
      @Context HttpServerRequest request) {
    if (QueryParams.text(limit) != null || QueryParams.text(cursor) != null) {
      // Ignored, a client asking for 10 rows would get the whole ledger, or one resuming after a
      // cursor would get the first rows again.
      throw ProblemException.badRequest(
          "export-not-paged",
          "The CSV export has every call matching the filters and takes no limit or cursor;"
              + " narrow it with from and to, or page the JSON list");
    }
    // Parsed before streaming starts, so a bad parameter is still a 400 problem.
    LlmCallFilter filter =
        filter(workflowId, stepId, agent, conversationId, team, provider, model, status, from, to);
    // Taken before the answer starts: a refusal is still a 503 problem.
    ExportSlots.Slot slot = exports.take();
    return Csv.attachment(
            "llm-calls.csv",
            csv -> {
              try (slot) {
                slot.start(() -> ConnectionAbort.abort(request));
                csv.row((Object[]) CSV_COLUMNS);
                ledger.export(
                    filter,
                    exports.maxDuration(),
                    c -> {
                      slot.check();
                      csv.row(
                          c.id(),
                          c.occurredAt(),
                          c.workflowId(),
                          c.stepId(),
                          c.agent(),
                          c.conversationId(),
                          c.team(),
                          c.operation(),
                          c.provider(),
                          c.requestModel(),
                          c.responseModel(),
                          c.status(),
                          c.errorCode(),
                          c.streamed(),
                          c.inputTokens(),
                          c.cachedInputTokens(),
                          c.outputTokens(),
                          c.reasoningTokens(),
                          c.usageSource(),
                          c.costUsd(),
                          c.priceVersion(),
                          c.startedAt(),
                          c.latencyMs(),
                          c.timeToFirstTokenMs(),
                          c.simulated(),
                          c.traceId(),
                          c.spanId(),
                          c.fallbackPath(),
                          c.recordedAt());
                    });
              }
            },
            () -> ConnectionAbort.abort(request))
        .build();
  }

  private static final String[] CSV_COLUMNS = {
    "id",
    "occurredAt",
    "workflowId",
    "stepId",
    "agent",
    "conversationId",
    "team",
    "operation",
    "provider",
    "requestModel",
    "responseModel",
    "status",
    "errorCode",
    "streamed",
    "inputTokens",
    "cachedInputTokens",
    "outputTokens",
    "reasoningTokens",
    "usageSource",
    "costUsd",
    "priceVersion",
    "startedAt",
    "latencyMs",
    "timeToFirstTokenMs",
    "simulated",
    "traceId",
    "spanId",
    "fallbackPath",
    "recordedAt"
  };

  private static LlmCallFilter filter(
      String workflowId,
      String stepId,
      String agent,
      String conversationId,
      String team,
      String provider,
      String model,
      String status,
      String from,
      String to) {
    Instant fromTime = QueryParams.instant("from", from);
    Instant toTime = QueryParams.instant("to", to);
    QueryParams.range(fromTime, toTime);
    return new LlmCallFilter(
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
    var callId = QueryParams.pathId("id", id);
    return ledger.find(callId).orElseThrow(() -> ProblemException.notFound("LLM call", callId));
  }
}
