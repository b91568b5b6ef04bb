package dev.atelier.context.rest;

import dev.atelier.context.service.ProjectBundle;
import dev.atelier.kit.problem.Problem;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.enums.SchemaType;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/** A workflow's latest artifacts as a downloadable project zip. */
@Path("/api/v1/workflows/{workflowId}/bundle")
@Tag(name = "artifacts")
public class BundleResource {

  static final String ZIP = "application/zip";

  private final ProjectBundle bundle;

  BundleResource(ProjectBundle bundle) {
    this.bundle = bundle;
  }

  @GET
  @Produces(ZIP)
  @Operation(
      summary = "Download the latest artifacts laid out as a project (zip, streamed)",
      description =
          "Files of the code, test-plan and docs artifacts under src/, tests/ and docs/ (README.md"
              + " at the root), Markdown artifacts under docs/atelier/, raw JSON artifacts under"
              + " .atelier/. Unsafe paths are left out and listed in .atelier/bundle-skipped.txt.")
  @APIResponse(
      responseCode = "200",
      description = "The zip",
      content =
          @Content(mediaType = ZIP, schema = @Schema(type = SchemaType.STRING, format = "binary")))
  @APIResponse(
      responseCode = "404",
      description = "The workflow has no artifacts",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  public Response download(@PathParam("workflowId") UUID workflowId) {
    return Response.ok(bundle.bundle(workflowId), ZIP)
        .header(
            HttpHeaders.CONTENT_DISPOSITION,
            "attachment; filename=\"atelier-" + workflowId + ".zip\"")
        .build();
  }
}
