package dev.atelier.gateway;

import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.List;
import java.util.Map;

/** The gateway with an OpenAI-compatible provider (WireMock) instead of the simulated one. */
public class OpenAiUpstreamProfile implements QuarkusTestProfile {

  public static final String PROVIDER_KEY = "sk-test-provider-key-0123456789";

  @Override
  public Map<String, String> getConfigOverrides() {
    return Map.of(
        // As read from a Kubernetes Secret file: the trailing newline is no part of the key.
        "gateway.openai.api-key", PROVIDER_KEY + "\n",
        "gateway.openai.max-retries", "2",
        "gateway.openai.retry-backoff", "10ms",
        "gateway.openai.max-response-bytes", "262144",
        "gateway.strict-models", "true",
        "gateway.models", "fast=openai:gpt-4o-mini,sim=simulated:gpt-4o");
  }

  @Override
  public List<TestResourceEntry> testResources() {
    return List.of(new TestResourceEntry(WireMockUpstream.class));
  }
}
