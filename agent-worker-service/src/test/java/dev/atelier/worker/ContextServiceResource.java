package dev.atelier.worker;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/**
 * Runs the real, packaged context-service as a child process, against its own database {@code
 * atelier_context_workertest}.
 */
public class ContextServiceResource implements QuarkusTestResourceLifecycleManager {

  private PackagedService service;

  @Override
  public Map<String, String> start() {
    service =
        PackagedService.start(
            "context-service",
            Map.of("DB_URL", "jdbc:postgresql://127.0.0.1:5432/atelier_context_workertest"));
    return Map.of(
        "quarkus.rest-client.context.url",
        service.url(),
        "quarkus.rest-client.context-health.url",
        service.url());
  }

  @Override
  public void stop() {
    if (service != null) {
      service.stop();
    }
  }
}
