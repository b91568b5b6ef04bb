package dev.atelier.gateway.rest;

import dev.atelier.gateway.config.GatewayConfig;
import dev.atelier.kit.problem.ProblemException;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** Checks the admin bearer key of the {@code /admin} endpoints (constant-time comparison). */
@ApplicationScoped
class AdminAuth {

  private static final String PREFIX = "Bearer ";

  private final byte[] adminKey;

  AdminAuth(GatewayConfig config) {
    this.adminKey = config.adminKey().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * @throws ProblemException 401 unless {@code authorization} is {@code Bearer <admin key>}
   */
  void require(String authorization) {
    boolean ok =
        authorization != null
            && authorization.regionMatches(true, 0, PREFIX, 0, PREFIX.length())
            && MessageDigest.isEqual(
                authorization.substring(PREFIX.length()).trim().getBytes(StandardCharsets.UTF_8),
                adminKey);
    if (!ok) {
      throw new ProblemException(
          401,
          "unauthorized",
          "Unauthorized",
          "a valid admin key is required (Authorization: Bearer <key>)");
    }
  }
}
