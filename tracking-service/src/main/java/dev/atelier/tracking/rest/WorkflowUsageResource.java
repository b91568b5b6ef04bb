package dev.atelier.tracking.rest;

import dev.atelier.kit.problem.Problem;
import dev.atelier.kit.problem.ProblemException;
import dev.atelier.tracking.model.AgentUsage;
import dev.atelier.tracking.model.StepUsage;
import dev.atelier.tracking.model.WorkflowUsage;
import dev.atelier.tracking.service.UsageService;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
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
    var id = QueryParams.pathId("workflowId", workflowId);
    return usage.workflowUsage(id).orElseThrow(() -> ProblemException.notFound("workflow", id));
  }

  // qs < 1: a client that accepts anything (*/*) gets JSON, CSV only when it asks for it.
  @GET
  @Produces(Csv.PRODUCES)
  @Operation(
      summary = "A workflow's usage, as CSV",
      description =
          "One row for the totals, then one per step and one per agent in the order of their first"
              + " call (column scope = total|step|agent); Accept: text/csv or format=csv.")
  @APIResponse(
      responseCode = "200",
      description = "The workflow's usage",
      content = @Content(mediaType = Csv.MEDIA_TYPE))
  @APIResponse(
      responseCode = "404",
      description = "The ledger knows no call and no status of this workflow",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  public Response getCsv(@PathParam("workflowId") String workflowId) {
    WorkflowUsage report = get(workflowId);
    return Csv.attachment(
            "workflow-" + report.workflowId() + "-usage.csv",
            csv -> {
              csv.row(
                  Csv.concat(
                      new Object[] {"scope", "stepId", "agent", "firstCallAt", "lastCallAt"},
                      Csv.FIGURE_COLUMNS));
              csv.row(
                  Csv.concat(
                      new Object[] {"total", null, null, null, null},
                      Csv.figures(report.totals())));
              for (StepUsage s : report.byStep()) {
                csv.row(
                    Csv.concat(
                        new Object[] {
                          "step", s.stepId(), s.agent(), s.firstCallAt(), s.lastCallAt()
                        },
                        Csv.figures(s.usage())));
              }
              for (AgentUsage a : report.byAgent()) {
                csv.row(
                    Csv.concat(
                        new Object[] {"agent", null, a.agent(), a.firstCallAt(), a.lastCallAt()},
                        Csv.figures(a.usage())));
              }
            })
        .build();
  }
}
