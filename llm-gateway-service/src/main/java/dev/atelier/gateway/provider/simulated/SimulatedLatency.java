package dev.atelier.gateway.provider.simulated;

import dev.atelier.gateway.config.GatewayConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How long the simulated provider waits before answering: nothing, a fixed delay, or a lognormal
 * draw around a median (real provider latencies are right-skewed). The wait is a timer, never a
 * sleeping thread.
 */
@ApplicationScoped
public class SimulatedLatency {

  private static final long CAP_MILLIS = 120_000;

  private final GatewayConfig.Simulated.Latency config;

  SimulatedLatency(GatewayConfig config) {
    this.config = config.simulated().latency();
  }

  /** The next delay; {@link Duration#ZERO} for none. */
  public Duration next() {
    return switch (config.mode()) {
      case none -> Duration.ZERO;
      case fixed -> config.fixed();
      case lognormal -> {
        double median = config.median().toNanos();
        double z = ThreadLocalRandom.current().nextGaussian();
        long nanos = (long) (median * Math.exp(config.sigma() * z));
        yield Duration.ofNanos(Math.min(nanos, Duration.ofMillis(CAP_MILLIS).toNanos()));
      }
    };
  }
}
