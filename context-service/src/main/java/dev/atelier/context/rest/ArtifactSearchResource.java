package dev.atelier.context.rest;

import dev.atelier.context.model.SearchHit;
import dev.atelier.context.service.ArtifactSearch;
import dev.atelier.kit.problem.Problem;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** Full-text search over the latest version of each artifact. */
@Path("/api/v1/artifacts/search")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "artifacts")
public class ArtifactSearchResource {

  private final ArtifactSearch search;

  ArtifactSearchResource(ArtifactSearch search) {
    this.search = search;
  }

  @GET
  @Operation(
      summary = "Search artifacts by text, best match first, with snippets",
      description =
          "PostgreSQL text search (English stemming) over the name and text of the latest version"
              + " of each artifact; q uses web-search syntax (words, \"phrases\", or, -word).")
  @APIResponse(
      responseCode = "400",
      description = "Blank or over-long q, or limit outside 1..100",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  @APIResponse(
      responseCode = "503",
      description = "The search ran past ARTIFACT_SEARCH_TIMEOUT and was cancelled (query-timeout)",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  public List<SearchHit> search(
      @Parameter(required = true, description = "the words to find") @QueryParam("q") String q,
      @Parameter(description = "only this workflow's artifacts") @QueryParam("workflowId")
          UUID workflowId,
      @Parameter(description = "1..100, default 20") @QueryParam("limit") Integer limit) {
    return search.search(q, workflowId, limit);
  }
}
