package dev.atelier.tracking.rest;

import dev.atelier.kit.problem.Problem;
import dev.atelier.kit.problem.ProblemException;
import dev.atelier.tracking.config.TrackingConfig;
import dev.atelier.tracking.model.GroupBy;
import dev.atelier.tracking.model.LlmCallFilter;
import dev.atelier.tracking.model.UsageFigures;
import dev.atelier.tracking.model.UsageGroup;
import dev.atelier.tracking.model.UsageReport;
import dev.atelier.tracking.service.UsageService;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.time.Instant;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Usage analytics over the whole ledger. */
@Path("/api/v1/usage")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Usage", description = "Tokens, cost and latency of LLM calls")
public class UsageResource {

  private static final String GROUP_BY_VALUES =
      Arrays.stream(GroupBy.values()).map(GroupBy::value).collect(Collectors.joining(", "));

  private final UsageService usage;
  private final TrackingConfig config;

  UsageResource(UsageService usage, TrackingConfig config) {
    this.usage = usage;
    this.config = config;
  }

  @GET
  @Operation(
      summary = "Usage grouped by one dimension",
      description =
          "Calls, errors, tokens, exact cost (known costs only; unknownCostCalls counts the rest)"
              + " latency p50/p95/p99/mean and time-to-first-token p50/p95 per group over"
              + " [from, to). The range defaults to the last 30 days; day and hour groups are UTC."
              + " A range on whole UTC days is read from the daily rollup, percentiles included"
              + " (approximate: within 4.3 % of a real value, from latency histograms); with"
              + " percentiles=false a range on whole hours is read from the hourly rollup; other"
              + " reports, and percentiles=exact, scan the raw rows. source and percentiles say"
              + " which.")
  @APIResponse(responseCode = "200", description = "The report")
  @APIResponse(
      responseCode = "400",
      description = "Missing or unknown groupBy, a malformed parameter, or from after to",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  public UsageReport report(
      @Parameter(
              required = true,
              schema =
                  @Schema(
                      type = SchemaType.STRING,
                      enumeration = {
                        "workflow",
                        "step",
                        "agent",
                        "team",
                        "provider",
                        "model",
                        "hour",
                        "day"
                      }))
          @QueryParam("groupBy")
          String groupBy,
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
      @Parameter(description = "Only this workflow's calls", schema = @Schema(format = "uuid"))
          @QueryParam("workflowId")
          String workflowId,
      @Parameter(description = "Only this team's calls") @QueryParam("team") String team,
      @Parameter(description = "Only this agent's calls") @QueryParam("agent") String agent,
      @Parameter(description = "Only this provider's calls") @QueryParam("provider")
          String provider,
      @Parameter(description = "Only this model's calls") @QueryParam("model") String model,
      @Parameter(description = "Most groups, 1 to 1000 (default 100)") @QueryParam("limit")
          String limit,
      @Parameter(
              description =
                  "true (default): percentiles, approximate when the daily rollup answers;"
                      + " exact: interpolated over the raw rows (slow over long ranges); false:"
                      + " none, so a range on whole UTC hours is answered from the hourly rollup",
              schema =
                  @Schema(
                      type = SchemaType.STRING,
                      enumeration = {"true", "false", "exact"}))
          @QueryParam("percentiles")
          String percentiles) {
    return build(groupBy, from, to, workflowId, team, agent, provider, model, limit, percentiles);
  }

  @GET
  // qs < 1: a client that accepts anything (*/*) gets JSON, CSV only when it asks for it.
  @Produces(Csv.PRODUCES)
  @Operation(
      summary = "Usage grouped by one dimension, as CSV",
      description =
          "The same report as JSON, one CSV row per group after a header row (RFC 4180), written"
              + " to the response as it is read; Accept: text/csv or format=csv. Costs are exact"
              + " decimals, unknown values empty fields.")
  @APIResponse(
      responseCode = "200",
      description = "The report",
      content = @Content(mediaType = Csv.MEDIA_TYPE))
  @APIResponse(
      responseCode = "400",
      description = "Missing or unknown groupBy, a malformed parameter, or from after to",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  public Response reportCsv(
      @QueryParam("groupBy") String groupBy,
      @QueryParam("from") String from,
      @QueryParam("to") String to,
      @QueryParam("workflowId") String workflowId,
      @QueryParam("team") String team,
      @QueryParam("agent") String agent,
      @QueryParam("provider") String provider,
      @QueryParam("model") String model,
      @QueryParam("limit") String limit,
      @QueryParam("percentiles") String percentiles) {
    UsageReport report =
        build(groupBy, from, to, workflowId, team, agent, provider, model, limit, percentiles);
    return Csv.attachment(
            "usage-" + report.groupBy() + ".csv",
            csv -> {
              csv.row(
                  report.groupBy(),
                  "calls",
                  "errors",
                  "inputTokens",
                  "cachedInputTokens",
                  "outputTokens",
                  "reasoningTokens",
                  "costUsd",
                  "unknownCostCalls",
                  "latencyMsP50",
                  "latencyMsP95",
                  "latencyMsP99",
                  "latencyMsMean",
                  "timeToFirstTokenMsP50",
                  "timeToFirstTokenMsP95");
              for (UsageGroup g : report.groups()) {
                UsageFigures f = g.usage();
                csv.row(
                    g.key(),
                    f.calls(),
                    f.errors(),
                    f.inputTokens(),
                    f.cachedInputTokens(),
                    f.outputTokens(),
                    f.reasoningTokens(),
                    f.costUsd(),
                    f.unknownCostCalls(),
                    f.latencyMsP50(),
                    f.latencyMsP95(),
                    f.latencyMsP99(),
                    f.latencyMsMean(),
                    f.timeToFirstTokenMsP50(),
                    f.timeToFirstTokenMsP95());
              }
            })
        .header("X-Usage-Source", report.source())
        .header("X-Usage-Percentiles", report.percentiles())
        .header("X-Usage-Truncated", report.truncated())
        .build();
  }

  private UsageReport build(
      String groupBy,
      String from,
      String to,
      String workflowId,
      String team,
      String agent,
      String provider,
      String model,
      String limit,
      String percentiles) {
    GroupBy dimension =
        GroupBy.parse(groupBy)
            .orElseThrow(
                () ->
                    ProblemException.badRequest(
                        "invalid-parameter", "groupBy must be one of " + GROUP_BY_VALUES));
    Instant fromTime = QueryParams.instant("from", from);
    Instant toTime = QueryParams.instant("to", to);
    QueryParams.range(fromTime, toTime);
    LlmCallFilter filter =
        new LlmCallFilter(
            QueryParams.uuid("workflowId", workflowId),
            null,
            QueryParams.text(agent),
            null,
            QueryParams.text(team),
            QueryParams.text(provider),
            QueryParams.text(model),
            null,
            fromTime,
            toTime);
    int groups =
        QueryParams.limit(
            "limit", limit, config.query().defaultGroups(), config.query().maxGroups());
    return usage.report(dimension, filter, groups, percentiles(percentiles));
  }

  private static UsageService.Percentiles percentiles(String value) {
    if (value == null || value.isBlank()) {
      return UsageService.Percentiles.APPROXIMATE;
    }
    return switch (value) {
      case "true" -> UsageService.Percentiles.APPROXIMATE;
      case "false" -> UsageService.Percentiles.NONE;
      case "exact" -> UsageService.Percentiles.EXACT;
      default ->
          throw ProblemException.badRequest(
              "invalid-parameter", "percentiles must be true, false or exact");
    };
  }
}
