package dev.atelier.orchestrator.rest;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.contracts.Headers;
import dev.atelier.kit.problem.Problem;
import dev.atelier.orchestrator.config.OrchestratorConfig;
import dev.atelier.orchestrator.model.ProgressEvent;
import dev.atelier.orchestrator.service.SubmitWorkflow;
import dev.atelier.orchestrator.service.WorkflowControl;
import dev.atelier.orchestrator.service.WorkflowDetails;
import dev.atelier.orchestrator.service.WorkflowProgress;
import dev.atelier.orchestrator.service.WorkflowService;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Multi;
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
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import java.net.URI;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** The public workflow API: submit a requirement, follow its workflow. */
@Path("/api/v1/workflows")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Workflows")
public class WorkflowResource {

  private final WorkflowService workflows;
  private final WorkflowControl control;
  private final WorkflowProgress progress;
  private final OrchestratorConfig config;
  private final ObjectMapper mapper;

  WorkflowResource(
      WorkflowService workflows,
      WorkflowControl control,
      WorkflowProgress progress,
      OrchestratorConfig config,
      ObjectMapper mapper) {
    this.workflows = workflows;
    this.control = control;
    this.progress = progress;
    this.config = config;
    this.mapper = mapper;
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
      @Parameter(
              description =
                  "running, waiting_approval, completed, failed, cancelled or budget_exceeded")
          @QueryParam("status")
          String status,
      @QueryParam("team") String team,
      @Parameter(description = "definition name") @QueryParam("definition") String definition,
      @Parameter(description = "created at or after this instant (ISO-8601)")
          @QueryParam("createdFrom")
          String createdFrom,
      @Parameter(description = "created before this instant (ISO-8601)") @QueryParam("createdTo")
          String createdTo,
      @Parameter(description = "page size, 1 to 100 (default 20)") @QueryParam("limit")
          Integer limit,
      @Parameter(description = "nextCursor of the previous page") @QueryParam("cursor")
          String cursor) {
    WorkflowService.Page page =
        workflows.list(status, team, definition, createdFrom, createdTo, limit, cursor);
    return new WorkflowSummary.Page(
        page.items().stream().map(WorkflowSummary::of).toList(), page.nextCursor());
  }

  @POST
  @Path("{id}/cancel")
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(
      summary = "Cancel a workflow",
      description =
          "Stops dispatching (unsent step requests are dropped), cancels the steps still out and"
              + " ignores their late results. Body optional: {\"comment\": reason}.")
  @APIResponse(
      responseCode = "200",
      description = "The cancelled workflow",
      content = @Content(schema = @Schema(implementation = WorkflowView.class)))
  @APIResponse(
      responseCode = "404",
      description = "No such workflow",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  @APIResponse(
      responseCode = "409",
      description = "The workflow has already ended",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  public WorkflowView cancel(@PathParam("id") String id, Decision body) {
    return WorkflowView.of(control.cancel(id, Decision.of(body)), config.contextServiceUrl());
  }

  @POST
  @Path("{id}/retry")
  @Operation(
      summary = "Retry a failed or budget-stopped workflow",
      description =
          "Runs its failed, cancelled and unsent steps again as new attempts (the attempt number"
              + " goes on); succeeded steps are not run again. Body optional:"
              + " {\"budgetUsd\": n} raises the budget first (n above the budget and the spend);"
              + " a workflow stopped by its own budget is resumed only that way.")
  @RequestBody(
      required = false,
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              schema = @Schema(implementation = RetryWorkflow.class)))
  @APIResponse(
      responseCode = "200",
      description = "The running workflow",
      content = @Content(schema = @Schema(implementation = WorkflowView.class)))
  @APIResponse(
      responseCode = "400",
      description = "The body is not {\"budgetUsd\": positive number}",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  @APIResponse(
      responseCode = "404",
      description = "No such workflow",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  @APIResponse(
      responseCode = "409",
      description =
          "The workflow is neither failed nor budget_exceeded (workflow-not-failed), the budget is"
              + " spent and not raised (budget-exceeded), or budgetUsd does not raise it"
              + " (budget-not-raised)",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  public WorkflowView retry(@PathParam("id") String id, String body) {
    // Read by hand: the body is optional, with or without a Content-Type.
    RetryWorkflow request = RetryWorkflow.parse(body, mapper);
    return WorkflowView.of(control.retry(id, request.budgetUsd()), config.contextServiceUrl());
  }

  @POST
  @Path("{id}/steps/{step}/approve")
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(
      summary = "Approve a step waiting at its approval gate",
      description = "Sends the step out; the optional comment becomes the agent's feedback.")
  @APIResponse(
      responseCode = "200",
      description = "The workflow",
      content = @Content(schema = @Schema(implementation = WorkflowView.class)))
  @APIResponse(
      responseCode = "404",
      description = "No such workflow or step",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  @APIResponse(
      responseCode = "409",
      description = "The step is not waiting for approval",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  public WorkflowView approve(
      @PathParam("id") String id,
      @Parameter(description = "step key (as in the definition) or step id") @PathParam("step")
          String step,
      Decision body) {
    return WorkflowView.of(
        control.approve(id, step, Decision.of(body)), config.contextServiceUrl());
  }

  @POST
  @Path("{id}/steps/{step}/reject")
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(
      summary = "Reject a step waiting at its approval gate",
      description =
          "With onReject in the step's definition the work goes back to that step, the comment"
              + " being its feedback; otherwise the workflow fails with the comment as reason.")
  @APIResponse(
      responseCode = "200",
      description = "The workflow",
      content = @Content(schema = @Schema(implementation = WorkflowView.class)))
  @APIResponse(
      responseCode = "404",
      description = "No such workflow or step",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  @APIResponse(
      responseCode = "409",
      description = "The step is not waiting for approval",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  public WorkflowView reject(
      @PathParam("id") String id,
      @Parameter(description = "step key (as in the definition) or step id") @PathParam("step")
          String step,
      Decision body) {
    return WorkflowView.of(control.reject(id, step, Decision.of(body)), config.contextServiceUrl());
  }

  @GET
  @Path("{id}/events")
  @Produces(MediaType.SERVER_SENT_EVENTS)
  // The checks before the stream read the database: not on the event loop.
  @Blocking
  @Operation(
      summary = "The workflow's progress as Server-Sent Events",
      description =
          "Every step dispatched, succeeded, failed, retry scheduled, cancelled or waiting for"
              + " approval and every status change, with the usage so far; the event id is its"
              + " number in the workflow's log. Reconnect with Last-Event-ID to get what followed."
              + " The stream ends after the workflow's final event.")
  @APIResponse(responseCode = "200", description = "The event stream")
  @APIResponse(
      responseCode = "400",
      description = "Last-Event-ID is not an event id",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  @APIResponse(
      responseCode = "404",
      description = "No such workflow",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  public Multi<OutboundSseEvent> events(
      @PathParam("id") String id,
      @Parameter(description = "id of the last event received") @HeaderParam("Last-Event-ID")
          String lastEventId,
      @Context Sse sse) {
    return progress.stream(id, lastEventId)
        .map(
            e ->
                sse.newEventBuilder()
                    .id(Long.toString(e.seq()))
                    .name(e.type())
                    .mediaType(MediaType.APPLICATION_JSON_TYPE)
                    .data(ProgressEvent.class, e)
                    .build());
  }
}
