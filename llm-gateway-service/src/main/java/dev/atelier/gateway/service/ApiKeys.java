package dev.atelier.gateway.service;

import dev.atelier.contracts.Headers;
import dev.atelier.gateway.config.GatewayConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Maps a caller's gateway key to its team. Keys are never logged. A key whose team is {@value
 * #SERVICE} is a service key (the agent workers'): it acts for the team its caller names in {@code
 * X-Atelier-Team}, or for {@value #DEFAULT_TEAM} when none is named, so pipeline calls count
 * against the workflow's team and its budgets. A team's own key cannot name another team.
 */
@ApplicationScoped
public class ApiKeys {

  private static final String BEARER = "bearer ";
  public static final String SERVICE = "*";
  public static final String DEFAULT_TEAM = "default";
  private static final Pattern TEAM = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  private final Map<String, String> teams;

  @Inject
  ApiKeys(GatewayConfig config) {
    this(parse(config.apiKeys()));
  }

  ApiKeys(Map<String, String> teams) {
    this.teams = teams;
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
    return authenticate(authorization, null);
  }

  /**
   * The team a call is made for: the key's team, or for a service key the team named in {@code
   * X-Atelier-Team}.
   *
   * @throws GatewayException 401 as {@link #authenticate(String)}; 400 for a malformed team name;
   *     403 when a team's key names another team
   */
  public String authenticate(String authorization, String teamHeader) {
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
    String named = teamHeader == null || teamHeader.isBlank() ? null : teamHeader.strip();
    if (named != null && !TEAM.matcher(named).matches()) {
      throw GatewayException.invalid(
          Headers.TEAM,
          "X-Atelier-Team must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter"
              + " or digit");
    }
    if (!SERVICE.equals(team)) {
      if (named != null && !named.equals(team)) {
        throw new GatewayException(
            403,
            "permission_error",
            "team_not_allowed",
            Headers.TEAM,
            "This gateway key belongs to team `" + team + "` and cannot act for `" + named + "`",
            false,
            false,
            null,
            null);
      }
      return team;
    }
    return named != null ? named : DEFAULT_TEAM;
  }
}
