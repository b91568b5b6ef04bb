package dev.atelier.gateway;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.GetResponse;
import dev.atelier.contracts.EventCodec;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.contracts.QueueSpec;
import dev.atelier.contracts.Topology;
import dev.atelier.kit.amqp.RabbitBroker;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A test queue bound to {@code atelier.llm-calls} in the test vhost, read by polling. Every record
 * read is kept, so each test can pick out its own by a fresh workflow id.
 */
public final class RecordedCalls {

  public static final QueueSpec TEST_QUEUE =
      QueueSpec.of(
          "atelier.test.gateway.llm-calls", Topology.LLM_CALLS_EXCHANGE, Topology.LLM_CALL);

  private static final List<LlmCallRecorded> SEEN = new CopyOnWriteArrayList<>();
  private static volatile boolean prepared;

  private final RabbitBroker broker;

  public RecordedCalls(RabbitBroker broker) {
    this.broker = broker;
  }

  /** Declares the test queue and empties it and the gateway's own record queues (once per run). */
  public synchronized void prepare() throws Exception {
    if (prepared) {
      return;
    }
    broker.declare(TEST_QUEUE, Topology.TRACKING_LLM_CALLS, Topology.ORCHESTRATOR_LLM_CALLS);
    try (Channel ch = broker.connection().createChannel()) {
      // Nothing consumes these in the test vhost; emptying them keeps the broker small across runs.
      ch.queuePurge(TEST_QUEUE.name());
      ch.queuePurge(Topology.TRACKING_LLM_CALLS.name());
      ch.queuePurge(Topology.ORCHESTRATOR_LLM_CALLS.name());
    }
    prepared = true;
  }

  /** Reads whatever has arrived and returns the records of {@code workflowId}. */
  public List<LlmCallRecorded> forWorkflow(UUID workflowId) throws Exception {
    drain();
    return SEEN.stream().filter(r -> workflowId.equals(r.workflowId())).toList();
  }

  /** Reads whatever has arrived and returns the record with {@code eventId}, if any. */
  public List<LlmCallRecorded> withId(UUID eventId) throws Exception {
    drain();
    return SEEN.stream().filter(r -> eventId.equals(r.eventId())).toList();
  }

  private synchronized void drain() throws Exception {
    try (Channel ch = broker.connection().createChannel()) {
      GetResponse r;
      while ((r = ch.basicGet(TEST_QUEUE.name(), true)) != null) {
        SEEN.add(EventCodec.read(r.getBody(), LlmCallRecorded.class));
      }
    }
  }
}
