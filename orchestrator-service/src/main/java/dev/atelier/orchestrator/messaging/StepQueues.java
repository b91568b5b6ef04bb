package dev.atelier.orchestrator.messaging;

import dev.atelier.contracts.QueueSpec;
import dev.atelier.contracts.Topology;
import dev.atelier.kit.amqp.RabbitBroker;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Collection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Makes sure a role's step queue exists before a step of that role is published, so a request waits
 * in the queue even when no worker of the role runs yet (instead of coming back unroutable).
 */
@ApplicationScoped
public class StepQueues {

  private final RabbitBroker broker;
  private final Set<String> declared = ConcurrentHashMap.newKeySet();

  StepQueues(RabbitBroker broker) {
    this.broker = broker;
  }

  public void ensure(String role) {
    ensureAll(Set.of(role));
  }

  public void ensureAll(Collection<String> roles) {
    QueueSpec[] missing =
        roles.stream()
            .filter(r -> !declared.contains(r))
            .distinct()
            .map(Topology::stepQueue)
            .toArray(QueueSpec[]::new);
    if (missing.length == 0) {
      return;
    }
    broker.declare(missing);
    roles.forEach(declared::add);
  }

  /**
   * Forgets that {@code role}'s queue was declared: a request to it came back unroutable, so the
   * queue was deleted on the broker, and the next {@link #ensureAll} declares it again.
   */
  public void forget(String role) {
    declared.remove(role);
    broker.forget(Topology.stepQueue(role).name());
  }
}
