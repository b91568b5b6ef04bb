package dev.atelier.gateway.service;

import dev.atelier.gateway.config.GatewayConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.HashMap;
import java.util.Map;

/** Maps a caller's gateway key to its team. Keys are never logged. */
@ApplicationScoped
public class ApiKeys {

  private static final String BEARER = "bearer ";

  private final Map<String, String> teams;

  ApiKeys(GatewayConfig config) {
    this.teams = parse(config.apiKeys());
  }

  static Map<String, String> parse(String spec) {
    Map<String, String> map = new HashMap<>();
    for (String entry : spec.split(",")) {
      String e = entry.trim();
      if (e.isEmpty()) {
        continue;
      }
      int eq = e.lastIndexOf('=');
      if (eq <= 0 || eq == e.length() - 1) {
        // Never echo the entry: it holds a key.
        throw new IllegalStateException(
            "gateway.api-keys: every entry must be key=team (entry " + (map.size() + 1) + ")");
      }
      map.put(e.substring(0, eq).trim(), e.substring(eq + 1).trim());
    }
    if (map.isEmpty()) {
      throw new IllegalStateException("gateway.api-keys names no key");
    }
    return Map.copyOf(map);
  }

  /**
   * The team of the key in an {@code Authorization} header.
   *
   * @throws GatewayException 401 when the header is missing, not a bearer token, or an unknown key
   */
  public String authenticate(String authorization) {
    if (authorization == null || authorization.isBlank()) {
      throw GatewayException.unauthorized(
          "You didn't provide an API key. Provide your gateway key in an Authorization header"
              + " (Authorization: Bearer <key>).");
    }
    if (authorization.length() <= BEARER.length()
        || !authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      throw GatewayException.unauthorized(
          "The Authorization header must be of the form 'Bearer <key>'.");
    }
    String team = teams.get(authorization.substring(BEARER.length()).trim());
    if (team == null) {
      throw GatewayException.unauthorized("Incorrect API key provided.");
    }
    return team;
  }
}
