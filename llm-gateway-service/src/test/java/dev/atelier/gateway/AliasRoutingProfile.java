package dev.atelier.gateway;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.List;
import java.util.Map;

/**
 * Deployment aliases over two providers: {@code openai} (WireMock {@link WireMockUpstream}) and the
 * managed provider {@code backup} (a second WireMock server the test registers). No provider-level
 * retries, so each call reaches a deployment at most once; a short circuit cool-off.
 */
public class AliasRoutingProfile implements QuarkusTestProfile {

  @Override
  public Map<String, String> getConfigOverrides() {
    return Map.ofEntries(
        Map.entry("gateway.openai.api-key", OpenAiUpstreamProfile.PROVIDER_KEY),
        Map.entry("gateway.openai.max-retries", "0"),
        Map.entry("gateway.aliases.fb.deployments", "openai:m-fallback,backup:m-fallback"),
        Map.entry("gateway.aliases.emb.deployments", "openai:e-fallback,backup:e-fallback"),
        Map.entry("gateway.aliases.cb.deployments", "openai:m-circuit,backup:m-circuit"),
        Map.entry("gateway.aliases.rl.deployments", "openai:m-ratelimit,backup:m-ratelimit"),
        Map.entry("gateway.aliases.w.strategy", "weighted"),
        Map.entry("gateway.aliases.w.deployments", "openai:m-weighted@1,backup:m-weighted@3"),
        Map.entry("gateway.aliases.hc.deployments", "openai:m-health,backup:m-health"),
        Map.entry("gateway.health.interval", "300ms"),
        Map.entry("gateway.health.timeout", "2s"),
        Map.entry("gateway.circuit.open-duration", "2s"));
  }

  @Override
  public List<TestResourceEntry> testResources() {
    return List.of(new TestResourceEntry(WireMockUpstream.class));
  }
}
