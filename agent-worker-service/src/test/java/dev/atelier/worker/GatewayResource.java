package dev.atelier.worker;

import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.Map;

/**
 * The real path of an LLM call: the packaged llm-gateway-service as a child process, its default
 * OpenAI-compatible provider pointed at an in-process WireMock server that plays the provider (the
 * only thing stubbed). The gateway meters every call and publishes its {@code LlmCallRecorded} into
 * the worker's test vhost, against its own database {@code atelier_gateway_workertest}.
 */
public class GatewayResource implements QuarkusTestResourceLifecycleManager {

  /** The provider's API key as the gateway holds it; it must never reach the worker or a log. */
  static final String PROVIDER_KEY = "sk-upstream-secret-for-tests";

  /** Marks the test field that receives the upstream provider's WireMock server. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.FIELD)
  public @interface Upstream {}

  private WireMockServer upstream;
  private PackagedService gateway;

  @Override
  public Map<String, String> start() {
    upstream = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1"));
    upstream.start();
    gateway =
        PackagedService.start(
            "llm-gateway-service",
            Map.of(
                "DB_URL", "jdbc:postgresql://127.0.0.1:5432/atelier_gateway_workertest",
                "RABBITMQ_VIRTUAL_HOST", "atelier-test-worker",
                "OPENAI_BASE_URL", upstream.baseUrl() + "/v1",
                "OPENAI_API_KEY", PROVIDER_KEY,
                // One gateway retry of a retryable upstream failure, so tests can count calls.
                "OPENAI_MAX_RETRIES", "1",
                // Breakers would open on the deliberate failures and blur what a test checks.
                "GATEWAY_CIRCUIT_MINIMUM_CALLS", "1000",
                // The workers' key is a service key: the gateway bills the team each step names.
                "GATEWAY_API_KEYS", "atelier-local-key=*"));
    return Map.of(
        "quarkus.langchain4j.openai.base-url",
        gateway.url() + "/v1",
        "quarkus.langchain4j.openai.api-key",
        "atelier-local-key");
  }

  @Override
  public void inject(TestInjector injector) {
    injector.injectIntoFields(
        upstream, new TestInjector.AnnotatedAndMatchesType(Upstream.class, WireMockServer.class));
  }

  @Override
  public void stop() {
    if (gateway != null) {
      gateway.stop();
    }
    if (upstream != null) {
      upstream.stop();
    }
  }
}
