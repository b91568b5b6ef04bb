package dev.atelier.gateway.provider;

/**
 * One deployment of an alias: a provider (by name, resolved per call so that a managed provider may
 * be added later) serving a model, with its weight for the weighted strategy.
 */
public record Deployment(String provider, String model, int weight) {

  /** The key of the deployment's circuit breaker and metrics. */
  public String key() {
    return provider + ":" + model;
  }
}
