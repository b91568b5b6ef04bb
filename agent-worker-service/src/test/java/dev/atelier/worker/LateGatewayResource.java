package dev.atelier.worker;

import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.net.ServerSocket;
import java.util.Map;

/**
 * An LLM gateway that is not up yet: the worker is pointed at a port nothing listens on, so its
 * connections are refused, until the test starts WireMock there ({@link WireMockServer#start()} on
 * the injected, not yet started server).
 */
public class LateGatewayResource implements QuarkusTestResourceLifecycleManager {

  /** Marks the test field that receives the (stopped) server. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.FIELD)
  public @interface Gateway {}

  private WireMockServer server;

  @Override
  public Map<String, String> start() {
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server = new WireMockServer(options().port(port).bindAddress("127.0.0.1"));
    return Map.of(
        "quarkus.langchain4j.openai.base-url",
        "http://127.0.0.1:" + port + "/v1",
        // Short, so that a test can outlast it; no other answer here takes a second.
        "quarkus.langchain4j.openai.timeout",
        "2s");
  }

  @Override
  public void inject(TestInjector injector) {
    injector.injectIntoFields(
        server, new TestInjector.AnnotatedAndMatchesType(Gateway.class, WireMockServer.class));
  }

  @Override
  public void stop() {
    if (server != null && server.isRunning()) {
      server.stop();
    }
  }
}
