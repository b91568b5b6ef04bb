package dev.atelier.worker.client;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.rest.client.inject.RegisterRestClient;

/**
 * context-service's renewal of step leases, across workflows. Use it through {@link ContextClient}.
 */
@RegisterRestClient(configKey = "context")
@Path("/api/v1/step-claims/renewals")
@Produces(MediaType.APPLICATION_JSON)
public interface StepLeaseApi {

  /** One lease held: its workflow, key and holder. */
  record Lease(UUID workflowId, String key, String holder) {}

  /** The body: every lease to renew, each for {@code leaseSeconds} from now. */
  record Renewals(int leaseSeconds, List<Lease> leases) {}

  /** The answer: the leases not renewed (released, or taken by another since they ran out). */
  record Result(List<Lease> lost) {}

  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  Result renew(Renewals renewals);
}
