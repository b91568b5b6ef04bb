package dev.atelier.orchestrator.rest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.kit.problem.Problem;
import dev.atelier.orchestrator.model.WorkflowDefinition;
import dev.atelier.orchestrator.service.WorkflowDefinitionService;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.net.URI;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Workflow definitions. Every change is validated and stored as a new version. */
@Path("/api/v1/workflow-definitions")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Workflow definitions")
public class WorkflowDefinitionResource {

  private final WorkflowDefinitionService definitions;

  WorkflowDefinitionResource(WorkflowDefinitionService definitions) {
    this.definitions = definitions;
  }

  @GET
  @Operation(
      summary = "The current version of every workflow definition, by name, a page at a time",
      description = NamePages.DESCRIPTION)
  @APIResponse(
      responseCode = "200",
      description = "A page of the current versions",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              schema = @Schema(type = SchemaType.ARRAY, implementation = WorkflowDefinition.class)))
  @APIResponse(
      responseCode = "400",
      description = NamePages.BAD_REQUEST,
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  public Response list(
      @Parameter(description = NamePages.LIMIT) @QueryParam("limit") Integer limit,
      @Parameter(description = NamePages.AFTER) @QueryParam("after") String after,
      @Context UriInfo uri) {
    return NamePages.answer(definitions.list(limit, after), uri);
  }

  @GET
  @Path("{name}")
  @Operation(summary = "A workflow definition: its current version, or the given one")
  @APIResponse(responseCode = "200", description = "The definition")
  @APIResponse(
      responseCode = "404",
      description = "No such definition or version",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  public WorkflowDefinition get(
      @PathParam("name") String name, @QueryParam("version") Integer version) {
    return version == null ? definitions.current(name) : definitions.version(name, version);
  }

  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(summary = "Create a workflow definition")
  @APIResponse(
      responseCode = "201",
      description = "Created",
      content = @Content(schema = @Schema(implementation = WorkflowDefinition.class)))
  @APIResponse(
      responseCode = "400",
      description = "Invalid definition: unknown role, cycle, unknown need, bad policy",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  @APIResponse(
      responseCode = "409",
      description = "The definition exists",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  public Response create(JsonNode body) {
    WorkflowDefinitionService.Saved saved = definitions.create(body);
    return Response.created(URI.create("/api/v1/workflow-definitions/" + saved.definition().name()))
        .entity(saved.definition())
        .build();
  }

  @PUT
  @Path("{name}")
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(
      summary = "Create or change a workflow definition",
      description = "Stores a new version unless the body equals the current version.")
  @APIResponse(responseCode = "200", description = "Changed (or unchanged)")
  @APIResponse(responseCode = "201", description = "Created")
  @APIResponse(
      responseCode = "400",
      description = "Invalid definition: unknown role, cycle, unknown need, bad policy",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  public Response put(@PathParam("name") String name, JsonNode body) {
    WorkflowDefinitionService.Saved saved = definitions.put(name, body);
    return saved.created()
        ? Response.created(URI.create("/api/v1/workflow-definitions/" + name))
            .entity(saved.definition())
            .build()
        : Response.ok(saved.definition()).build();
  }

  @DELETE
  @Path("{name}")
  @Operation(summary = "Retire a workflow definition; running workflows keep their version")
  @APIResponse(responseCode = "204", description = "Retired")
  @APIResponse(
      responseCode = "404",
      description = "No such definition",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  public Response delete(@PathParam("name") String name) {
    definitions.retire(name);
    return Response.noContent().build();
  }
}
