package dev.atelier.gateway;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.GetResponse;
import dev.atelier.contracts.BudgetThresholdCrossed;
import dev.atelier.contracts.EventCodec;
import dev.atelier.contracts.QueueSpec;
import dev.atelier.contracts.Topology;
import dev.atelier.kit.amqp.RabbitBroker;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A test queue bound to {@code atelier.budget-events} ({@code budget.#}) in the test vhost, read by
 * polling; every event read is kept with its routing key, so a test picks out its budget's events.
 */
public final class BudgetEvents {

  public static final QueueSpec TEST_QUEUE =
      QueueSpec.of(
          "atelier.test.gateway.budget-events", Topology.BUDGET_EVENTS_EXCHANGE, "budget.#");

  /** An event as received. */
  public record Received(String routingKey, BudgetThresholdCrossed event) {}

  private static final List<Received> SEEN = new CopyOnWriteArrayList<>();
  private static volatile boolean prepared;

  private final RabbitBroker broker;

  public BudgetEvents(RabbitBroker broker) {
    this.broker = broker;
  }

  /** Declares and empties the test queue and the tracking queue nothing consumes here (once). */
  public synchronized void prepare() throws Exception {
    if (prepared) {
      return;
    }
    broker.declare(TEST_QUEUE, Topology.TRACKING_BUDGET_EVENTS);
    try (Channel ch = broker.connection().createChannel()) {
      ch.queuePurge(TEST_QUEUE.name());
      ch.queuePurge(Topology.TRACKING_BUDGET_EVENTS.name());
    }
    prepared = true;
  }

  /** Reads whatever has arrived and returns the events of one budget. */
  public synchronized List<Received> forBudget(UUID budgetId) throws Exception {
    try (Channel ch = broker.connection().createChannel()) {
      GetResponse r;
      while ((r = ch.basicGet(TEST_QUEUE.name(), true)) != null) {
        SEEN.add(
            new Received(
                r.getEnvelope().getRoutingKey(),
                EventCodec.read(r.getBody(), BudgetThresholdCrossed.class)));
      }
    }
    return SEEN.stream().filter(e -> budgetId.equals(e.event().budgetId())).toList();
  }
}
