package dev.atelier.worker.health;

import dev.atelier.worker.client.ContextHealthApi;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import org.eclipse.microprofile.rest.client.inject.RestClient;

/**
 * Ready only while context-service is ready: without it no step can read inputs or store outputs.
 * Its client has short timeouts ({@code quarkus.rest-client.context-health.*}).
 */
@Readiness
@ApplicationScoped
public class ContextServiceHealthCheck implements HealthCheck {

  private final ContextHealthApi contextService;

  ContextServiceHealthCheck(@RestClient ContextHealthApi contextService) {
    this.contextService = contextService;
  }

  @Override
  public HealthCheckResponse call() {
    try {
      contextService.ready();
      return HealthCheckResponse.up("context-service");
    } catch (RuntimeException e) {
      return HealthCheckResponse.named("context-service")
          .down()
          .withData("error", e.getClass().getSimpleName())
          .build();
    }
  }
}
