package dev.atelier.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.smallrye.config.EnvConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Deployment aliases can be configured from environment variables alone. */
class AliasEnvConfigTest {

  @Test
  void aliasesComeFromEnvironmentVariables() {
    SmallRyeConfig config =
        new SmallRyeConfigBuilder()
            .withMapping(GatewayConfig.class)
            // Quarkus' "5s" durations, as in the application
            .withConverter(
                java.time.Duration.class,
                200,
                new io.quarkus.runtime.configuration.DurationConverter())
            .withConverter(
                io.quarkus.runtime.configuration.MemorySize.class,
                200,
                new io.quarkus.runtime.configuration.MemorySizeConverter())
            // required, set in application.properties
            .withDefaultValue("gateway.records.journal.dir", "target/record-journal")
            .withSources(
                new EnvConfigSource(
                    Map.of(
                        "GATEWAY_ALIASES_FAST_DEPLOYMENTS", "openai:gpt-4o-mini,groq:llama@3",
                        "GATEWAY_ALIASES_FAST_STRATEGY", "weighted"),
                    300))
            .build();
    GatewayConfig gateway = config.getConfigMapping(GatewayConfig.class);
    assertThat(gateway.aliases()).containsOnlyKeys("fast");
    assertThat(gateway.aliases().get("fast").deployments())
        .isEqualTo("openai:gpt-4o-mini,groq:llama@3");
    assertThat(gateway.aliases().get("fast").strategy()).isEqualTo(GatewayConfig.Strategy.weighted);
    assertThat(gateway.circuit().windowSize()).isEqualTo(10);
  }
}
