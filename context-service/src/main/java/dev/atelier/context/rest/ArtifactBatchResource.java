package dev.atelier.context.rest;

import dev.atelier.context.model.ArtifactReadResult;
import dev.atelier.context.model.ArtifactReads;
import dev.atelier.context.model.ArtifactWriteResult;
import dev.atelier.context.model.ArtifactWrites;
import dev.atelier.context.service.ArtifactService;
import dev.atelier.contracts.Headers;
import dev.atelier.kit.problem.Problem;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.ParameterIn;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Batch reads and writes: what a worker needs for one step in one request each, instead of one
 * request per artifact.
 */
@Path("/api/v1/workflows/{workflowId}")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "artifacts", description = "Versioned artifacts of a workflow")
public class ArtifactBatchResource {

  private final ArtifactService service;

  ArtifactBatchResource(ArtifactService service) {
    this.service = service;
  }

  @POST
  @Path("artifact-reads")
  @Operation(
      summary = "Read several artifact versions, and what several idempotency keys wrote",
      description =
          "Safe and idempotent (POST only to carry the list). Answers the versions in the order"
              + " of refs, with content, and for each key that wrote a version that version;"
              + " keys that wrote nothing are left out of 'written'.")
  @APIResponse(
      responseCode = "200",
      description = "All refs found",
      content = @Content(schema = @Schema(implementation = ArtifactReadResult.class)))
  @APIResponse(
      responseCode = "400",
      description = "Malformed body, a ref not of the form name@version, too many items",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  @APIResponse(
      responseCode = "404",
      description = "A ref does not exist (the first missing one is named)",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  public ArtifactReadResult read(
      @PathParam("workflowId") UUID workflowId, @NotNull @Valid ArtifactReads reads) {
    return service.readAll(workflowId, reads);
  }

  @POST
  @Path("artifact-writes")
  @Operation(
      summary = "Write new versions of several artifacts, all or none",
      description =
          "Each artifact is stored under the key <Idempotency-Key>:<name>, as a single POST with"
              + " that key would store it: retrying the batch returns the versions it wrote (200,"
              + " Idempotent-Replayed: true) and appends nothing. One transaction: if any"
              + " artifact is refused, nothing is stored.")
  @APIResponse(
      responseCode = "201",
      description = "At least one version created",
      content = @Content(schema = @Schema(implementation = ArtifactWriteResult.class)))
  @APIResponse(
      responseCode = "200",
      description = "Replay: every key had already written its version",
      content = @Content(schema = @Schema(implementation = ArtifactWriteResult.class)))
  @APIResponse(
      responseCode = "400",
      description = "Invalid body or name, a name twice, missing key, too many artifacts",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  @APIResponse(
      responseCode = "413",
      description = "An artifact's content is over the size limit",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  @APIResponse(
      responseCode = "422",
      description = "A key already wrote a different request",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  public Response write(
      @PathParam("workflowId") UUID workflowId,
      @Parameter(
              in = ParameterIn.HEADER,
              required = true,
              description =
                  "Prefix of each artifact's key (<key>:<name>); workers send <stepId>:<attempt>")
          @HeaderParam(Headers.IDEMPOTENCY_KEY)
          String idempotencyKey,
      @NotNull @Valid ArtifactWrites writes) {
    ArtifactWriteResult result =
        new ArtifactWriteResult(
            service
                .writeAll(workflowId, idempotencyKey, writes.artifacts(), writes.release())
                .stream()
                .map(o -> new ArtifactWriteResult.Written(o.version().summary(), o.created()))
                .toList());
    if (result.anyCreated()) {
      return Response.status(Response.Status.CREATED).entity(result).build();
    }
    return Response.ok(result).header(ArtifactResource.REPLAYED, "true").build();
  }
}
