package dev.atelier.context.rest;

import dev.atelier.context.model.ClaimState;
import dev.atelier.context.model.StepClaim;
import dev.atelier.context.repository.StepClaimRepository;
import dev.atelier.kit.problem.Problem;
import dev.atelier.kit.problem.ProblemException;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Leases on step attempts, so two deliveries of one attempt never run its LLM calls twice at once.
 * A worker takes the lease with its batch read ({@code claim}), renews it here while the step runs,
 * and releases it once the result is published.
 */
@Path("/api/v1/workflows/{workflowId}/step-claims")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "step claims", description = "Which worker runs which step attempt")
public class StepClaimResource {

  private final StepClaimRepository claims;

  StepClaimResource(StepClaimRepository claims) {
    this.claims = claims;
  }

  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(
      summary = "Take or renew the lease on a step attempt",
      description =
          "Granted when nobody holds the key, the same holder asks (which renews it), or the"
              + " earlier lease ran out; otherwise 'granted' is false and the answer names the"
              + " holder and when its lease runs out. Times are the database's.")
  @APIResponse(
      responseCode = "200",
      description = "Granted or not, as 'granted' says",
      content = @Content(schema = @Schema(implementation = ClaimState.class)))
  @APIResponse(
      responseCode = "400",
      description = "A malformed key or holder, a lease outside 1-600 s",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  public ClaimState claim(
      @PathParam("workflowId") UUID workflowId, @NotNull @Valid StepClaim claim) {
    return claims.claim(workflowId, claim);
  }

  @DELETE
  @Path("{key}")
  @Operation(
      summary = "Release a lease",
      description =
          "Ends the holder's lease at once; does nothing when the key is free or another holder"
              + " has it (its own lease ran out and someone took it). Idempotent.")
  @APIResponse(responseCode = "204", description = "Released, or not held by this holder")
  @APIResponse(
      responseCode = "400",
      description = "A malformed key or holder",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  public void release(
      @PathParam("workflowId") UUID workflowId,
      @PathParam("key") String key,
      @QueryParam("holder") String holder) {
    if (key == null || !key.matches(StepClaim.KEY_PATTERN)) {
      throw ProblemException.badRequest(
          "invalid-parameter", "key: must be 1-200 of A-Z a-z 0-9 . _ : -");
    }
    if (holder == null || !holder.matches(StepClaim.HOLDER_PATTERN)) {
      throw ProblemException.badRequest(
          "invalid-parameter", "holder: must be 1-200 printable ASCII characters");
    }
    claims.release(workflowId, key, holder);
  }
}
