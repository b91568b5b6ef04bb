package dev.atelier.worker;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

import com.github.tomakehurst.wiremock.WireMockServer;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.HashMap;
import java.util.Map;

/**
 * The real context-service (as {@link ContextServiceResource} runs it) behind a WireMock proxy the
 * worker is pointed at, so a test can make context-service look down for a while: a stub of higher
 * priority answers instead of the proxy until the test removes it.
 */
public class ContextProxyResource extends ContextServiceResource {

  /** Marks the test field that receives the proxy. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.FIELD)
  public @interface Proxy {}

  /** Priority of the proxying stub; a test's outage stubs use a smaller number. */
  static final int PROXY_PRIORITY = 10;

  private WireMockServer proxy;

  @Override
  public Map<String, String> start() {
    Map<String, String> config = new HashMap<>(super.start());
    String service = config.get("quarkus.rest-client.context.url");
    proxy = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1"));
    proxy.start();
    proxy.stubFor(
        any(anyUrl()).atPriority(PROXY_PRIORITY).willReturn(aResponse().proxiedFrom(service)));
    config.put("quarkus.rest-client.context.url", proxy.baseUrl());
    config.put("context-service.direct-url", service);
    return config;
  }

  @Override
  public void inject(TestInjector injector) {
    injector.injectIntoFields(
        proxy, new TestInjector.AnnotatedAndMatchesType(Proxy.class, WireMockServer.class));
  }

  @Override
  public void stop() {
    if (proxy != null) {
      proxy.stop();
    }
    super.stop();
  }
}
