package dev.atelier.worker.client;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import org.eclipse.microprofile.rest.client.inject.RegisterRestClient;

/** context-service's readiness endpoint, on its own client so it gets short timeouts. */
@RegisterRestClient(configKey = "context-health")
@Path("/q/health/ready")
public interface ContextHealthApi {

  @GET
  String ready();
}
