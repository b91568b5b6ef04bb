package dev.atelier.tracking.rest;

import dev.atelier.kit.problem.Problem;
import dev.atelier.kit.problem.ProblemException;
import dev.atelier.tracking.model.WorkflowUsage;
import dev.atelier.tracking.service.UsageService;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** One workflow's token, cost and latency usage, as its usage panel shows it. */
@Path("/api/v1/workflows/{workflowId}/usage")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Usage")
public class WorkflowUsageResource {

  private final UsageService usage;

  WorkflowUsageResource(UsageService usage) {
    this.usage = usage;
  }

  @GET
  @Operation(
      summary = "A workflow's usage",
      description =
          "Totals, then per step and per agent in the order of their first call. costUsd sums"
              + " only known costs; calls without a price are counted in unknownCostCalls.")
  @APIResponse(responseCode = "200", description = "The workflow's usage")
  @APIResponse(
      responseCode = "400",
      description = "The id is not a UUID",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  @APIResponse(
      responseCode = "404",
      description = "The ledger knows no call and no status of this workflow",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  public WorkflowUsage get(
      @Parameter(schema = @Schema(format = "uuid")) @PathParam("workflowId") String workflowId) {
    var id = QueryParams.uuid("workflowId", workflowId);
    return usage.workflowUsage(id).orElseThrow(() -> ProblemException.notFound("workflow", id));
  }
}
