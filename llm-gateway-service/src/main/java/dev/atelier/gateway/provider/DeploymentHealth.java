package dev.atelier.gateway.provider;

import dev.atelier.gateway.config.GatewayConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The circuit breakers of all alias deployments, created on first use, with the gauge {@code
 * atelier.llm.provider.circuit.open} (1 while open) per deployment, which the alert rules in
 * deploy/observability rely on; and which providers failed their last health check.
 */
@ApplicationScoped
public class DeploymentHealth {

  private final Map<String, CircuitBreaker> breakers = new ConcurrentHashMap<>();
  private final Map<String, Deployment> deployments = new ConcurrentHashMap<>();
  private final Set<String> downProviders = ConcurrentHashMap.newKeySet();
  private final GatewayConfig.Circuit config;
  private final MeterRegistry registry;

  DeploymentHealth(GatewayConfig config, MeterRegistry registry) {
    this.config = config.circuit();
    this.registry = registry;
  }

  /** The breaker of {@code d}. */
  public CircuitBreaker breaker(Deployment d) {
    return breakers.computeIfAbsent(
        d.key(),
        k -> {
          CircuitBreaker b =
              new CircuitBreaker(
                  config.windowSize(),
                  config.minimumCalls(),
                  config.failureRatio(),
                  config.openDuration());
          deployments.put(k, d);
          Gauge.builder("atelier.llm.provider.circuit.open", b, x -> x.isOpen() ? 1 : 0)
              .description("1 while the deployment's circuit breaker is open")
              .tag("provider", d.provider())
              .tag("model", d.model())
              .register(registry);
          return b;
        });
  }

  /** Marks a provider down or up, as its last health check ({@link ProviderProbes}) found it. */
  void providerDown(String provider, boolean down) {
    if (down) {
      downProviders.add(provider);
    } else {
      downProviders.remove(provider);
    }
  }

  /** True while the provider's last health check failed. */
  public boolean providerDown(String provider) {
    return downProviders.contains(provider);
  }

  /** Cooldown after a 429 that carried no usable {@code Retry-After}. */
  public Duration defaultRetryAfter() {
    return config.defaultRetryAfter();
  }

  /** A snapshot of every known deployment's breaker, ordered by {@code provider:model}. */
  public Map<Deployment, CircuitBreaker.Snapshot> snapshots() {
    Instant now = Instant.now();
    Map<String, Deployment> sorted = new TreeMap<>(deployments);
    Map<Deployment, CircuitBreaker.Snapshot> out = new LinkedHashMap<>();
    sorted.forEach((k, d) -> out.put(d, breakers.get(k).snapshot(now)));
    return out;
  }
}
