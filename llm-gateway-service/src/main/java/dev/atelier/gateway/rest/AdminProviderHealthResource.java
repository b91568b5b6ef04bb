package dev.atelier.gateway.rest;

import dev.atelier.gateway.provider.CircuitBreaker;
import dev.atelier.gateway.provider.DeploymentHealth;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import java.time.Instant;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;

/**
 * The circuit state of every alias deployment ({@code gateway.aliases}): the same state the gauge
 * {@code atelier_llm_provider_circuit_open} exports. Admin key; errors as problem+json.
 */
@Path("/admin/providers/health")
@Produces(MediaType.APPLICATION_JSON)
public class AdminProviderHealthResource {

  private final DeploymentHealth health;
  private final AdminAuth admin;

  AdminProviderHealthResource(DeploymentHealth health, AdminAuth admin) {
    this.health = health;
    this.admin = admin;
  }

  /** One deployment's breaker. */
  public record DeploymentView(
      String provider,
      String model,
      String state,
      double failureRatio,
      int calls,
      Instant openUntil,
      Instant cooldownUntil,
      String lastError,
      Instant lastErrorAt) {}

  /** Every deployment, ordered by provider and model. */
  @GET
  @Operation(summary = "Circuit state of every alias deployment")
  public List<DeploymentView> list(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization) {
    admin.require(authorization);
    return health.snapshots().entrySet().stream()
        .map(
            e -> {
              CircuitBreaker.Snapshot s = e.getValue();
              return new DeploymentView(
                  e.getKey().provider(),
                  e.getKey().model(),
                  s.state().name(),
                  s.failureRatio(),
                  s.calls(),
                  s.openUntil(),
                  s.cooldownUntil(),
                  s.lastError(),
                  s.lastErrorAt());
            })
        .toList();
  }
}
