package dev.atelier.gateway.rest;

import dev.atelier.gateway.provider.CircuitBreaker;
import dev.atelier.gateway.provider.DeploymentHealth;
import dev.atelier.gateway.provider.ProviderProbes;
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
 * The last health check of every provider ({@link ProviderProbes}; gauge {@code
 * atelier_llm_provider_up}) and the circuit state of every alias deployment ({@code
 * gateway.aliases}; gauge {@code atelier_llm_provider_circuit_open}). Admin key; errors as
 * problem+json.
 */
@Path("/admin/providers/health")
@Produces(MediaType.APPLICATION_JSON)
public class AdminProviderHealthResource {

  private final DeploymentHealth health;
  private final ProviderProbes probes;
  private final AdminAuth admin;

  AdminProviderHealthResource(DeploymentHealth health, ProviderProbes probes, AdminAuth admin) {
    this.health = health;
    this.probes = probes;
    this.admin = admin;
  }

  /** Providers by name, then deployments by provider and model. */
  public record HealthView(
      List<ProviderProbes.Probe> providers, List<DeploymentView> deployments) {}

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

  /** Every provider's last health check and every deployment's breaker. */
  @GET
  @Operation(
      summary = "Health checks of every provider and circuit state of every alias deployment")
  public HealthView list(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization) {
    admin.require(authorization);
    return new HealthView(List.copyOf(probes.probes().values()), deployments());
  }

  private List<DeploymentView> deployments() {
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
