package dev.atelier.worker.client;

import dev.atelier.contracts.Headers;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.rest.client.inject.RegisterRestClient;

/** context-service's artifact API. Use it through {@link ContextClient}. */
@RegisterRestClient(configKey = "context")
@Path("/api/v1/workflows/{workflowId}/artifacts")
@Produces(MediaType.APPLICATION_JSON)
public interface ContextApi {

  @GET
  @Path("{name}/versions/{version}")
  ArtifactView version(
      @PathParam("workflowId") UUID workflowId,
      @PathParam("name") String name,
      @PathParam("version") int version);

  @GET
  @Path("{name}/versions")
  List<ArtifactView> versions(
      @PathParam("workflowId") UUID workflowId, @PathParam("name") String name);

  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  ArtifactView write(
      @PathParam("workflowId") UUID workflowId,
      @HeaderParam(Headers.IDEMPOTENCY_KEY) String idempotencyKey,
      NewArtifact artifact);
}
