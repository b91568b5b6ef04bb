package dev.atelier.gateway.managed;

import java.time.Instant;

/**
 * A provider added through {@code /admin/providers}, as stored. The key stays sealed here; only
 * {@link ManagedProviders} decrypts it, to build the provider's HTTP client.
 *
 * @param status {@code pending} until validated, then {@code ok} or {@code failed}
 */
public record ManagedProvider(
    String name,
    String baseUrl,
    byte[] apiKeyEncrypted,
    String status,
    String statusReason,
    Instant checkedAt,
    long revision,
    Instant updatedAt) {

  public static final String PENDING = "pending";
  public static final String OK = "ok";
  public static final String FAILED = "failed";

  @Override
  public String toString() {
    // Records print every field; the sealed key is left out anyway.
    return "ManagedProvider[" + name + ", " + baseUrl + ", " + status + ", r" + revision + "]";
  }
}
