package dev.atelier.gateway.rest;

import dev.atelier.gateway.pricing.Price;
import dev.atelier.gateway.pricing.PriceCatalog;
import dev.atelier.kit.problem.ProblemException;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Comparator;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;

/**
 * The price table as the gateway currently prices with it (the in-memory copy), and a reload. Admin
 * endpoints answer errors as problem+json; they need the admin key.
 */
@Path("/admin/prices")
@Produces(MediaType.APPLICATION_JSON)
public class AdminPriceResource {

  private final PriceCatalog catalog;
  private final AdminAuth admin;

  AdminPriceResource(PriceCatalog catalog, AdminAuth admin) {
    this.catalog = catalog;
    this.admin = admin;
  }

  /** One price row, USD per 1M tokens. */
  public record PriceView(
      String provider,
      String model,
      BigDecimal inputPerMtok,
      BigDecimal cachedInputPerMtok,
      BigDecimal outputPerMtok,
      Instant effectiveFrom,
      String version,
      boolean inEffect) {}

  @GET
  @Operation(summary = "List prices, optionally for one provider, as in effect at an instant")
  public List<PriceView> list(
      @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
      @QueryParam("provider") String provider,
      @QueryParam("at") String at) {
    admin.require(authorization);
    Instant when = parseInstant(at);
    return catalog.all().stream()
        .filter(p -> provider == null || provider.equals(p.provider()))
        .filter(p -> !p.effectiveFrom().isAfter(when))
        .sorted(Comparator.comparing(Price::provider).thenComparing(Price::model))
        .map(
            p ->
                new PriceView(
                    p.provider(),
                    p.model(),
                    p.inputPerMtok(),
                    p.cachedInputPerMtok(),
                    p.outputPerMtok(),
                    p.effectiveFrom(),
                    p.version(),
                    catalog.find(p.provider(), p.model(), when).map(p::equals).orElse(false)))
        .toList();
  }

  @POST
  @Path("/reload")
  @Operation(summary = "Reload the in-memory price table from the database now")
  public List<PriceView> reload(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization)
      throws Exception {
    admin.require(authorization);
    catalog.reload();
    return list(authorization, null, null);
  }

  private static Instant parseInstant(String at) {
    if (at == null || at.isBlank()) {
      return Instant.now();
    }
    try {
      return Instant.parse(at);
    } catch (DateTimeParseException e) {
      throw ProblemException.badRequest(
          "invalid-instant", "'at' must be an ISO-8601 instant such as 2025-01-01T00:00:00Z");
    }
  }
}
