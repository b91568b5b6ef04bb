package dev.atelier.worker.client;

import dev.atelier.contracts.Headers;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.UUID;
import org.eclipse.microprofile.rest.client.inject.RegisterRestClient;

/** context-service's artifact API. Use it through {@link ContextClient}. */
@RegisterRestClient(configKey = "context")
@Path("/api/v1/workflows/{workflowId}")
@Produces(MediaType.APPLICATION_JSON)
public interface ContextApi {

  @POST
  @Path("artifacts")
  @Consumes(MediaType.APPLICATION_JSON)
  ArtifactView write(
      @PathParam("workflowId") UUID workflowId,
      @HeaderParam(Headers.IDEMPOTENCY_KEY) String idempotencyKey,
      NewArtifact artifact);

  @POST
  @Path("artifact-reads")
  @Consumes(MediaType.APPLICATION_JSON)
  BatchRead.Result readAll(@PathParam("workflowId") UUID workflowId, BatchRead reads);

  @POST
  @Path("step-claims")
  @Consumes(MediaType.APPLICATION_JSON)
  BatchRead.ClaimState claim(@PathParam("workflowId") UUID workflowId, BatchRead.Claim claim);

  @DELETE
  @Path("step-claims/{key}")
  void release(
      @PathParam("workflowId") UUID workflowId,
      @PathParam("key") String key,
      @QueryParam("holder") String holder);

  @POST
  @Path("artifact-writes")
  @Consumes(MediaType.APPLICATION_JSON)
  BatchWrite.Result writeAll(
      @PathParam("workflowId") UUID workflowId,
      @HeaderParam(Headers.IDEMPOTENCY_KEY) String idempotencyKey,
      BatchWrite writes);
}
