package dev.atelier.orchestrator.rest;

import dev.atelier.orchestrator.repository.VersionedStore;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;

/** The answer of a list of current roles or definitions, a page at a time by name. */
final class NamePages {

  static final String DESCRIPTION =
      "At most limit (1 to 1000, default 1000) and about 4M characters of definitions a page;"
          + " when more follow, a Link header rel=\"next\" names the next page.";
  static final String BAD_REQUEST = "limit outside 1..1000, or an after that is not a name";
  static final String LIMIT = "page size, 1 to 1000 (default 1000)";
  static final String AFTER = "list the names after this one (the next page's Link gives it)";

  private NamePages() {}

  /**
   * The page's items, with a {@code Link rel="next"} to the names after its last when more follow.
   */
  static Response answer(VersionedStore.Page<?> page, UriInfo uri) {
    Response.ResponseBuilder ok = Response.ok(page.items());
    if (page.nextAfter() != null) {
      ok.link(
          uri.getRequestUriBuilder().replaceQueryParam("after", page.nextAfter()).build(), "next");
    }
    return ok.build();
  }
}
