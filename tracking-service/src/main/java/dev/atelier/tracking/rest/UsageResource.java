package dev.atelier.tracking.rest;

import dev.atelier.kit.problem.Problem;
import dev.atelier.kit.problem.ProblemException;
import dev.atelier.tracking.config.TrackingConfig;
import dev.atelier.tracking.model.GroupBy;
import dev.atelier.tracking.model.LlmCallFilter;
import dev.atelier.tracking.model.UsageReport;
import dev.atelier.tracking.service.UsageService;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
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
              + " and latency p50/p95 per group over [from, to). The range defaults to the last"
              + " 30 days; day and hour groups are UTC.")
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
          String limit) {
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
    return usage.report(dimension, filter, groups);
  }
}
