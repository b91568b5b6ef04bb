package dev.atelier.contracts;

import java.util.List;

/**
 * A durable quorum queue, what it is bound to, and where its dead letters go.
 *
 * @param name queue name
 * @param exchange the topic exchange it is bound to
 * @param routingKeys binding keys
 * @param deadLetterExchange fanout exchange that receives rejected messages and messages
 *     redelivered more than {@link #DELIVERY_LIMIT} times
 * @param deadLetterQueue the queue bound to {@code deadLetterExchange}
 */
public record QueueSpec(
    String name,
    String exchange,
    List<String> routingKeys,
    String deadLetterExchange,
    String deadLetterQueue) {

  /**
   * Redeliveries after which a quorum queue dead-letters a message that keeps failing, so a poison
   * message never blocks its queue.
   */
  public static final int DELIVERY_LIMIT = 10;

  public QueueSpec {
    routingKeys = List.copyOf(routingKeys);
  }

  /** A queue with its own dead-letter pair {@code <name>.dlx} -> {@code <name>.dead}. */
  public static QueueSpec of(String name, String exchange, String... routingKeys) {
    return new QueueSpec(name, exchange, List.of(routingKeys), name + ".dlx", name + ".dead");
  }
}
