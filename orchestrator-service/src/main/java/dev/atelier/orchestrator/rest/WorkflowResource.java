package dev.atelier.orchestrator.rest;

import dev.atelier.contracts.Headers;
import dev.atelier.kit.problem.Problem;
import dev.atelier.orchestrator.config.OrchestratorConfig;
import dev.atelier.orchestrator.service.SubmitWorkflow;
import dev.atelier.orchestrator.service.WorkflowDetails;
import dev.atelier.orchestrator.service.WorkflowService;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The public workflow API: submit a requirement, follow its workflow. */
@Path("/api/v1/workflows")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Workflows")
public class WorkflowResource {

  private final WorkflowService workflows;
  private final OrchestratorConfig config;

  WorkflowResource(WorkflowService workflows, OrchestratorConfig config) {
    this.workflows = workflows;
    this.config = config;
  }

  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(
      summary = "Submit a requirement",
      description =
          "Stores the workflow and starts its first steps; returns at once. Resubmitting with the"
              + " same Idempotency-Key returns the same workflow.")
  @APIResponse(
      responseCode = "202",
      description = "Accepted; Location names the workflow",
      content = @Content(schema = @Schema(implementation = WorkflowView.class)))
  @APIResponse(
      responseCode = "400",
      description = "Invalid request or unknown definition",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  @APIResponse(
      responseCode = "413",
      description = "The requirement exceeds 64 KiB",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  @APIResponse(
      responseCode = "422",
      description = "The Idempotency-Key was used for a different request",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  public Response submit(
      @Valid @NotNull SubmitWorkflow request,
      @Parameter(
              description =
                  "Makes retried submissions safe: the same key returns the same workflow")
          @HeaderParam(Headers.IDEMPOTENCY_KEY)
          String idempotencyKey) {
    WorkflowDetails details = workflows.submit(request, idempotencyKey);
    return Response.accepted(WorkflowView.of(details, config.contextServiceUrl()))
        .location(URI.create("/api/v1/workflows/" + details.workflow().id()))
        .build();
  }

  @GET
  @Path("{id}")
  @Operation(summary = "A workflow with its steps, usage and trace id")
  @APIResponse(responseCode = "200", description = "The workflow")
  @APIResponse(
      responseCode = "404",
      description = "No such workflow",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  public WorkflowView get(@PathParam("id") String id) {
    return WorkflowView.of(workflows.find(id), config.contextServiceUrl());
  }

  @GET
  @Operation(summary = "Workflows, newest first, filtered and paginated")
  @APIResponse(responseCode = "200", description = "A page of workflows")
  @APIResponse(
      responseCode = "400",
      description = "Invalid filter, limit or cursor",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  public WorkflowSummary.Page list(
      @Parameter(description = "running, waiting_approval, completed, failed or cancelled")
          @QueryParam("status")
          String status,
      @QueryParam("team") String team,
      @Parameter(description = "definition name") @QueryParam("definition") String definition,
      @Parameter(description = "page size, 1 to 100 (default 20)") @QueryParam("limit")
          Integer limit,
      @Parameter(description = "nextCursor of the previous page") @QueryParam("cursor")
          String cursor) {
    WorkflowService.Page page = workflows.list(status, team, definition, limit, cursor);
    return new WorkflowSummary.Page(
        page.items().stream().map(WorkflowSummary::of).toList(), page.nextCursor());
  }
}
