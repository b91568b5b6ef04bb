package dev.atelier.context.rest;

import dev.atelier.context.model.StepRenewals;
import dev.atelier.context.repository.StepClaimRepository;
import dev.atelier.kit.problem.Problem;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * Renews the step leases ({@link StepClaimResource}) a worker replica holds, across workflows, in
 * one request however many it runs.
 */
@Path("/api/v1/step-claims/renewals")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.APPLICATION_JSON)
@Tag(name = "step claims", description = "Which worker runs which step attempt")
public class StepClaimRenewalResource {

  private final StepClaimRepository claims;

  StepClaimRenewalResource(StepClaimRepository claims) {
    this.claims = claims;
  }

  @POST
  @Operation(
      summary = "Renew several leases",
      description =
          "Renews each lease its holder still has, in one statement, and answers those it did"
              + " not renew (released, or taken by another holder since they ran out). Never"
              + " creates a lease: a renewal that arrives after a release cannot bring it back.")
  @APIResponse(
      responseCode = "200",
      description = "The leases not renewed",
      content = @Content(schema = @Schema(implementation = StepRenewals.Result.class)))
  @APIResponse(
      responseCode = "400",
      description = "A malformed lease, more than 1,000, a lease time outside 1-600 s",
      content =
          @Content(
              mediaType = Problem.MEDIA_TYPE,
              schema = @Schema(implementation = Problem.class)))
  public StepRenewals.Result renew(@NotNull @Valid StepRenewals renewals) {
    return new StepRenewals.Result(claims.renew(renewals.leases(), renewals.leaseSeconds()));
  }
}
