package dev.atelier.tracking.rest;

import dev.atelier.kit.problem.ProblemException;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.PreMatching;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.ext.Provider;

/**
 * Lets a link ask for a representation: {@code ?format=csv} (or {@code json}) on an {@code /api/}
 * path stands for the matching {@code Accept} header, so a browser download link can fetch CSV.
 */
@Provider
@PreMatching
public class FormatParameter implements ContainerRequestFilter {

  @Override
  public void filter(ContainerRequestContext request) {
    String format = request.getUriInfo().getQueryParameters().getFirst("format");
    if (format == null || !request.getUriInfo().getPath().startsWith("/api/")) {
      return;
    }
    String accept =
        switch (format) {
          case "csv" -> Csv.MEDIA_TYPE;
          case "json" -> MediaType.APPLICATION_JSON;
          default ->
              throw ProblemException.badRequest("invalid-parameter", "format must be csv or json");
        };
    request.getHeaders().putSingle(HttpHeaders.ACCEPT, accept);
  }
}
