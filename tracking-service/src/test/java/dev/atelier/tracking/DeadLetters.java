package dev.atelier.tracking;

import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.GetResponse;
import dev.atelier.contracts.Headers;
import dev.atelier.kit.amqp.RabbitBroker;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A test's reader of one dead-letter queue: drains it, keeping every message it took, until one
 * with a given body turns up (several tests share the queue, so earlier messages stay findable).
 */
final class DeadLetters {

  private final RabbitBroker broker;
  private final String queue;
  private final List<GetResponse> seen = new ArrayList<>();

  DeadLetters(RabbitBroker broker, String queue) {
    this.broker = broker;
    this.queue = queue;
  }

  /** Why the dead letter with this body was dead-lettered: its reason header. */
  String awaitReason(byte[] body) throws Exception {
    return String.valueOf(awaitBody(body).getProps().getHeaders().get(Headers.DEAD_LETTER_REASON));
  }

  /** The dead letter with this body, once it arrives (within {@link Ledger#PATIENCE}). */
  GetResponse awaitBody(byte[] body) throws Exception {
    try (Channel ch = broker.connection().createChannel()) {
      return await()
          .atMost(Ledger.PATIENCE)
          .until(
              () -> {
                GetResponse r;
                while ((r = ch.basicGet(queue, true)) != null) {
                  seen.add(r);
                }
                return seen.stream()
                    .filter(d -> Arrays.equals(d.getBody(), body))
                    .findFirst()
                    .orElse(null);
              },
              d -> d != null);
    }
  }
}
