package dev.atelier.gateway;

import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/** An in-process OpenAI-compatible upstream for the gateway (the only thing tests stub). */
public class WireMockUpstream implements QuarkusTestResourceLifecycleManager {

  private static volatile WireMockServer server;

  public static WireMockServer server() {
    return server;
  }

  @Override
  public Map<String, String> start() {
    server = new WireMockServer(options().dynamicPort());
    server.start();
    return Map.of("gateway.openai.base-url", server.baseUrl() + "/v1");
  }

  @Override
  public void stop() {
    if (server != null) {
      server.stop();
    }
  }
}
