package dev.atelier.kit.amqp;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready only while the RabbitMQ connection is open. */
@Readiness
@ApplicationScoped
public class RabbitHealthCheck implements HealthCheck {

  private final RabbitBroker broker;

  RabbitHealthCheck(RabbitBroker broker) {
    this.broker = broker;
  }

  @Override
  public HealthCheckResponse call() {
    return HealthCheckResponse.named("rabbitmq")
        .status(broker.isOpen())
        .withData("broker", broker.describe())
        .build();
  }
}
