package dev.atelier.context.rest;

import dev.atelier.context.model.ArtifactVersion;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.ext.Provider;

/**
 * Sets {@code ETag: "<version>"} on every answer that carries one artifact version (reads and
 * writes), the value a client sends back in {@code If-Match} to write conditionally. In one place
 * so no endpoint can forget it.
 */
@Provider
public class ArtifactETags implements ContainerResponseFilter {

  @Override
  public void filter(ContainerRequestContext request, ContainerResponseContext response) {
    if (response.getEntity() instanceof ArtifactVersion v) {
      response.getHeaders().putSingle(HttpHeaders.ETAG, "\"" + v.version() + "\"");
    }
  }
}
