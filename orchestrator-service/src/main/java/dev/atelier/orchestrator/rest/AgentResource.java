package dev.atelier.orchestrator.rest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.atelier.kit.problem.Problem;
import dev.atelier.orchestrator.model.AgentDefinition;
import dev.atelier.orchestrator.service.AgentService;
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

/** Agent definitions (roles). Every change stores a new version; running steps keep theirs. */
@Path("/api/v1/agents")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Agents")
public class AgentResource {

  private final AgentService agents;

  AgentResource(AgentService agents) {
    this.agents = agents;
  }

  @GET
  @Operation(
      summary = "The current version of every role, by name, a page at a time",
      description = NamePages.DESCRIPTION)
  @APIResponse(
      responseCode = "200",
      description = "A page of the current versions",
      content =
          @Content(
              mediaType = MediaType.APPLICATION_JSON,
              schema = @Schema(type = SchemaType.ARRAY, implementation = AgentDefinition.class)))
  @APIResponse(
      responseCode = "400",
      description = NamePages.BAD_REQUEST,
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  public Response list(
      @Parameter(description = NamePages.LIMIT) @QueryParam("limit") Integer limit,
      @Parameter(description = NamePages.AFTER) @QueryParam("after") String after,
      @Context UriInfo uri) {
    return NamePages.answer(agents.list(limit, after), uri);
  }

  @GET
  @Path("{role}")
  @Operation(summary = "A role: its current version, or the given one")
  @APIResponse(responseCode = "200", description = "The agent definition")
  @APIResponse(
      responseCode = "404",
      description = "No such role or version",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  public AgentDefinition get(
      @PathParam("role") String role, @QueryParam("version") Integer version) {
    return version == null ? agents.current(role) : agents.version(role, version);
  }

  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(summary = "Create a role")
  @APIResponse(
      responseCode = "201",
      description = "Created",
      content = @Content(schema = @Schema(implementation = AgentDefinition.class)))
  @APIResponse(
      responseCode = "400",
      description = "Invalid definition",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  @APIResponse(
      responseCode = "409",
      description = "The role exists",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  public Response create(JsonNode body) {
    AgentService.Saved saved = agents.create(body);
    return Response.created(URI.create("/api/v1/agents/" + saved.agent().name()))
        .entity(saved.agent())
        .build();
  }

  @PUT
  @Path("{role}")
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(
      summary = "Create or change a role",
      description = "Stores a new version unless the body equals the current version.")
  @APIResponse(responseCode = "200", description = "Changed (or unchanged)")
  @APIResponse(responseCode = "201", description = "Created")
  @APIResponse(
      responseCode = "400",
      description = "Invalid definition",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  public Response put(@PathParam("role") String role, JsonNode body) {
    AgentService.Saved saved = agents.put(role, body);
    return saved.created()
        ? Response.created(URI.create("/api/v1/agents/" + role)).entity(saved.agent()).build()
        : Response.ok(saved.agent()).build();
  }

  @DELETE
  @Path("{role}")
  @Operation(
      summary = "Retire a role",
      description = "Refused while a workflow definition uses it.")
  @APIResponse(responseCode = "204", description = "Retired")
  @APIResponse(
      responseCode = "404",
      description = "No such role",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  @APIResponse(
      responseCode = "409",
      description = "A workflow definition uses the role",
      content = @Content(mediaType = Problem.MEDIA_TYPE))
  public Response delete(@PathParam("role") String role) {
    agents.retire(role);
    return Response.noContent().build();
  }
}
