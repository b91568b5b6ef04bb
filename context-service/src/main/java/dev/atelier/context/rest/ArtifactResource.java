package dev.atelier.context.rest;

import dev.atelier.context.model.ArtifactBody;
import dev.atelier.context.model.ArtifactSummary;
import dev.atelier.context.model.ArtifactVersion;
import dev.atelier.context.model.NewArtifact;
import dev.atelier.context.service.ArtifactService;
import dev.atelier.context.service.Precondition;
import dev.atelier.context.service.WriteOutcome;
import dev.atelier.contracts.Headers;
import dev.atelier.kit.problem.Problem;
import dev.atelier.kit.problem.ProblemException;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.net.URI;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.ParameterIn;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * The shared context of a workflow: its artifacts, each an append-only series of versions addressed
 * as {@code name@version}. Workers write step outputs here and read step inputs from here.
 */
@Path("/api/v1/workflows/{workflowId}/artifacts")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "artifacts", description = "Versioned artifacts of a workflow")
public class ArtifactResource {

  private static final String LIMIT =
      "page size, 1 to "
          + ArtifactService.MAX_LIST_LIMIT
          + " (default "
          + ArtifactService.MAX_LIST_LIMIT
          + "); a Link header rel=\"next\" names the next page";

  /** Replays answer 200 with this header set, so a client can tell them from a first write. */
  static final String REPLAYED = "Idempotent-Replayed";

  private final ArtifactService service;

  ArtifactResource(ArtifactService service) {
    this.service = service;
  }

  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(
      summary = "Write a new version of an artifact",
      description =
          "Appends version max+1 of the named artifact. Retrying with the same Idempotency-Key"
              + " returns the version the key first wrote (200) instead of appending another.")
  @APIResponse(
      responseCode = "201",
      description = "Version created",
      content = @Content(schema = @Schema(implementation = ArtifactVersion.class)))
  @APIResponse(
      responseCode = "200",
      description = "Replay: this key already wrote this version",
      content = @Content(schema = @Schema(implementation = ArtifactVersion.class)))
  @APIResponse(
      responseCode = "400",
      description = "Invalid body, name or missing key",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  @APIResponse(
      responseCode = "413",
      description = "Content over the size limit",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  @APIResponse(
      responseCode = "422",
      description = "The key already wrote a different request",
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
                  "Identifies the write across retries; workers send <stepId>:<attempt>:<name>")
          @HeaderParam(Headers.IDEMPOTENCY_KEY)
          String idempotencyKey,
      @NotNull @Valid NewArtifact artifact) {
    return answer(workflowId, service.write(workflowId, idempotencyKey, artifact));
  }

  private static Response answer(UUID workflowId, WriteOutcome outcome) {
    ArtifactVersion v = outcome.version();
    URI location =
        URI.create(
            "/api/v1/workflows/"
                + workflowId
                + "/artifacts/"
                + v.name()
                + "/versions/"
                + v.version());
    if (outcome.created()) {
      return Response.created(location).entity(v).build();
    }
    return Response.ok(v).contentLocation(location).header(REPLAYED, "true").build();
  }

  @PUT
  @Path("{name}")
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(
      summary = "Write a new version of an artifact if its latest version is the one expected",
      description =
          "Optimistic concurrency: If-Match: \"<version>\" (the ETag of a read) appends a"
              + " version only if that is still the latest; If-Match: * only if the artifact"
              + " exists; If-None-Match: * only if it does not. Idempotency-Key as for POST; a"
              + " replay is answered before the precondition is checked.")
  @APIResponse(
      responseCode = "201",
      description = "Version created",
      content = @Content(schema = @Schema(implementation = ArtifactVersion.class)))
  @APIResponse(
      responseCode = "200",
      description = "Replay: this key already wrote this version",
      content = @Content(schema = @Schema(implementation = ArtifactVersion.class)))
  @APIResponse(
      responseCode = "412",
      description = "The latest version is not the one expected",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  @APIResponse(
      responseCode = "428",
      description = "Neither If-Match nor If-None-Match: * was sent",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  public Response put(
      @PathParam("workflowId") UUID workflowId,
      @PathParam("name") String name,
      @Parameter(in = ParameterIn.HEADER, description = "\"<latest version>\" or *")
          @HeaderParam(HttpHeaders.IF_MATCH)
          String ifMatch,
      @Parameter(in = ParameterIn.HEADER, description = "* to create the artifact only")
          @HeaderParam(HttpHeaders.IF_NONE_MATCH)
          String ifNoneMatch,
      @Parameter(in = ParameterIn.HEADER, required = true) @HeaderParam(Headers.IDEMPOTENCY_KEY)
          String idempotencyKey,
      @NotNull @Valid ArtifactBody body) {
    if (!name.matches(NewArtifact.NAME_PATTERN)) {
      throw ProblemException.badRequest(
          "invalid-name", "artifact name must match " + NewArtifact.NAME_PATTERN);
    }
    Precondition precondition = Precondition.of(ifMatch, ifNoneMatch);
    return answer(
        workflowId, service.write(workflowId, idempotencyKey, body.named(name), precondition));
  }

  @GET
  @Operation(
      summary = "List the latest version of each artifact (without content), oldest artifact first")
  @APIResponse(
      responseCode = "200",
      description =
          "The latest version of each artifact; a Link header rel=\"next\" when more follow",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              schema = @Schema(type = SchemaType.ARRAY, implementation = ArtifactSummary.class)))
  @APIResponse(
      responseCode = "400",
      description = "limit outside 1..1000, or an after cursor this API did not return",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  @APIResponse(
      responseCode = "404",
      description = "The workflow has no artifacts",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  public Response list(
      @PathParam("workflowId") UUID workflowId,
      @Parameter(description = LIMIT) @QueryParam("limit") Integer limit,
      @Parameter(description = "the cursor of the next page, from the previous page's Link header")
          @QueryParam("after")
          String after,
      @Context UriInfo uri) {
    return page(service.latestOfEach(workflowId, limit, after), uri);
  }

  @GET
  @Path("{name}")
  @Operation(summary = "Read the latest version of an artifact, with content")
  @APIResponse(
      responseCode = "404",
      description = "No such artifact",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  public ArtifactVersion latest(
      @PathParam("workflowId") UUID workflowId, @PathParam("name") String name) {
    return service.latest(workflowId, name);
  }

  @GET
  @Path("{name}/versions")
  @Operation(summary = "List the versions of an artifact (without content), oldest first")
  @APIResponse(
      responseCode = "200",
      description = "Versions of the artifact; a Link header rel=\"next\" when more follow",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              schema = @Schema(type = SchemaType.ARRAY, implementation = ArtifactSummary.class)))
  @APIResponse(
      responseCode = "400",
      description = "limit outside 1..1000, or a negative after",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  @APIResponse(
      responseCode = "404",
      description = "No such artifact",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  public Response versions(
      @PathParam("workflowId") UUID workflowId,
      @PathParam("name") String name,
      @Parameter(description = LIMIT) @QueryParam("limit") Integer limit,
      @Parameter(description = "list the versions after this one (the previous page's last)")
          @QueryParam("after")
          Integer after,
      @Context UriInfo uri) {
    return page(service.versions(workflowId, name, limit, after), uri);
  }

  /**
   * A page as a JSON array, as before lists were paged; when more follow, a {@code Link} header
   * (RFC 8288) names the next page.
   */
  private static Response page(ArtifactService.ListPage page, UriInfo uri) {
    Response.ResponseBuilder ok = Response.ok(page.items());
    if (page.nextAfter() != null) {
      ok.link(
          uri.getRequestUriBuilder().replaceQueryParam("after", page.nextAfter()).build(), "next");
    }
    return ok.build();
  }

  @GET
  @Path("{name}/versions/{version}")
  @Operation(summary = "Read one version of an artifact, with content")
  @APIResponse(
      responseCode = "404",
      description = "No such version",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  public ArtifactVersion version(
      @PathParam("workflowId") UUID workflowId,
      @PathParam("name") String name,
      @PathParam("version") int version) {
    return service.version(workflowId, name, version);
  }
}
