package dev.atelier.kit.amqp;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.GetResponse;
import dev.atelier.contracts.Headers;
import dev.atelier.contracts.MalformedEventException;
import dev.atelier.contracts.QueueSpec;
import dev.atelier.contracts.StepFailed;
import dev.atelier.contracts.Topology;
import dev.atelier.kit.tracing.TraceContexts;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The batch consumer against the real RabbitMQ, in the kit's own virtual host. */
class BatchConsumersTest {

  private static final String EXCHANGE = Topology.STEP_RESULTS_EXCHANGE;
  private static final OpenTelemetry OTEL =
      OpenTelemetry.propagating(ContextPropagators.create(W3CTraceContextPropagator.getInstance()));
  private static RabbitBroker broker;
  private static EventPublisher publisher;

  @BeforeAll
  static void connect() {
    broker = new RabbitBroker(RabbitTestSupport.config());
    publisher = new EventPublisher(broker, new MessagingSpans(OTEL), new TraceContexts(OTEL));
  }

  @AfterAll
  static void close() throws Exception {
    broker.connection().close();
  }

  @Test
  void eventsArriveInBoundedBatchesAndAreAllAcknowledgedWhileBadOnesAreDeadLetteredAlone()
      throws Exception {
    QueueSpec queue = RabbitTestSupport.freshQueue(broker, EXCHANGE, "kit-batch-test");
    // A broker of its own, so closing it afterwards shows whether anything stayed unacknowledged.
    RabbitBroker consuming = new RabbitBroker(RabbitTestSupport.config());
    BatchConsumers consumers = consumers(consuming);
    List<List<StepFailed>> batches = new CopyOnWriteArrayList<>();
    consumers.consume(
        queue,
        StepFailed.class,
        new BatchConsumers.Options(8, Duration.ofMillis(100), 16, 1),
        e -> {
          if (e.attempt() < 0) {
            throw new MalformedEventException("attempt must not be negative", null);
          }
        },
        batches::add);

    List<Outgoing> good = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      good.add(
          Outgoing.now(
              EXCHANGE, RabbitTestSupport.routingKeyOf(queue), RabbitTestSupport.failure(1)));
    }
    StepFailed invalid = RabbitTestSupport.failure(-1);
    publisher.publishAll(good.subList(0, 10));
    try (Channel ch = broker.connection().createChannel()) {
      ch.basicPublish(
          EXCHANGE,
          RabbitTestSupport.routingKeyOf(queue),
          null,
          "{broken".getBytes(StandardCharsets.UTF_8));
    }
    publisher.publish(EXCHANGE, RabbitTestSupport.routingKeyOf(queue), invalid);
    publisher.publishAll(good.subList(10, 20));

    RabbitTestSupport.await(() -> batches.stream().mapToInt(List::size).sum() >= 20);
    List<StepFailed> handled = batches.stream().flatMap(List::stream).toList();
    assertThat(handled)
        .containsExactlyElementsOf(good.stream().map(o -> (StepFailed) o.event()).toList());
    assertThat(batches).allSatisfy(b -> assertThat(b).hasSizeBetween(1, 8));
    assertThat(batches.size()).isGreaterThanOrEqualTo(3);

    Map<String, String> reasons = new HashMap<>();
    try (Channel ch = broker.connection().createChannel()) {
      RabbitTestSupport.await(
          () -> {
            try {
              GetResponse r;
              while ((r = ch.basicGet(queue.deadLetterQueue(), true)) != null) {
                reasons.put(
                    new String(r.getBody(), StandardCharsets.UTF_8),
                    r.getProps().getHeaders().get(Headers.DEAD_LETTER_REASON).toString());
              }
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
            return reasons.size() == 2;
          });
    }
    assertThat(reasons.get("{broken")).startsWith("body is not JSON");
    assertThat(reasons.entrySet())
        .anySatisfy(
            e -> {
              assertThat(e.getKey()).contains(invalid.eventId().toString());
              assertThat(e.getValue()).isEqualTo("attempt must not be negative");
            });

    // Everything was acknowledged: closing the consumer returns nothing to the queue.
    consuming.connection().close();
    try (Channel ch = broker.connection().createChannel()) {
      assertThat(ch.messageCount(queue.name())).isZero();
    }
  }

  @Test
  void whateverTheCheckThrowsDeadLettersThatEventAloneAndTheOthersAreHandled() throws Exception {
    // Before, only a MalformedEventException did; anything else closed the channel for good.
    QueueSpec queue = RabbitTestSupport.freshQueue(broker, EXCHANGE, "kit-batch-test");
    List<StepFailed> handled = new CopyOnWriteArrayList<>();
    consumers(broker)
        .consume(
            queue,
            StepFailed.class,
            new BatchConsumers.Options(8, Duration.ofMillis(50), 16, 1),
            e -> {
              if (e.attempt() < 0) {
                throw new NullPointerException("a field the check reads is null");
              }
            },
            handled::addAll);
    List<Outgoing> good = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      good.add(
          Outgoing.now(
              EXCHANGE, RabbitTestSupport.routingKeyOf(queue), RabbitTestSupport.failure(1)));
    }
    StepFailed bad = RabbitTestSupport.failure(-1);

    publisher.publishAll(good.subList(0, 3));
    publisher.publish(EXCHANGE, RabbitTestSupport.routingKeyOf(queue), bad);
    publisher.publishAll(good.subList(3, 6));

    RabbitTestSupport.await(() -> handled.size() >= 6);
    assertThat(handled)
        .containsExactlyElementsOf(good.stream().map(o -> (StepFailed) o.event()).toList());
    try (Channel ch = broker.connection().createChannel()) {
      GetResponse dead = RabbitTestSupport.awaitDeadLetter(ch, queue);
      assertThat(dead.getProps().getMessageId()).isEqualTo(bad.eventId().toString());
      assertThat(dead.getProps().getHeaders().get(Headers.DEAD_LETTER_REASON).toString())
          .isEqualTo(
              "cannot read the event: NullPointerException: a field the check reads is null");
      RabbitTestSupport.await(() -> RabbitTestSupport.messageCount(ch, queue.name()) == 0);
    }
  }

  @Test
  void aBatchWhoseEveryEventFailsAloneTooIsReturnedWholeAndRedelivered() throws Exception {
    QueueSpec queue = RabbitTestSupport.freshQueue(broker, EXCHANGE, "kit-batch-test");
    BatchConsumers consumers = consumers(broker);
    AtomicInteger calls = new AtomicInteger();
    List<Integer> sizes = new CopyOnWriteArrayList<>();
    List<StepFailed> committed = new CopyOnWriteArrayList<>();
    consumers.consume(
        queue,
        StepFailed.class,
        new BatchConsumers.Options(5, Duration.ofSeconds(5), 5, 1),
        e -> {},
        batch -> {
          sizes.add(batch.size());
          // The batch, then each of its five events alone: a fault that is not the events'.
          if (calls.incrementAndGet() <= 6) {
            throw new IllegalStateException("the handler failed");
          }
          committed.addAll(batch);
        });
    List<StepFailed> sent = publishFailures(queue, 5);

    RabbitTestSupport.await(() -> committed.size() >= 5);
    // The whole batch, its events one by one, then the redelivered batch whole again.
    assertThat(sizes).containsExactly(5, 1, 1, 1, 1, 1, 5);
    assertThat(committed).containsExactlyInAnyOrderElementsOf(sent);
    try (Channel ch = broker.connection().createChannel()) {
      RabbitTestSupport.await(() -> RabbitTestSupport.messageCount(ch, queue.name()) == 0);
      assertThat(ch.messageCount(queue.deadLetterQueue())).isZero();
    }
  }

  @Test
  void anEventTheHandlerCannotStoreIsDeadLetteredAloneWithTheReasonAndTheRestOfItsBatchIsStored()
      throws Exception {
    // Before, it failed its whole batch, which came back with it until the delivery limit
    // dead-lettered all of them: one over-long value lost a batch of good records.
    QueueSpec queue = RabbitTestSupport.freshQueue(broker, EXCHANGE, "kit-batch-test");
    RabbitBroker consuming = new RabbitBroker(RabbitTestSupport.config());
    BatchConsumers consumers = consumers(consuming);
    List<Integer> sizes = new CopyOnWriteArrayList<>();
    List<StepFailed> committed = new CopyOnWriteArrayList<>();
    consumers.consume(
        queue,
        StepFailed.class,
        new BatchConsumers.Options(6, Duration.ofSeconds(5), 6, 1),
        e -> {},
        batch -> {
          sizes.add(batch.size());
          if (batch.stream().anyMatch(e -> e.attempt() == 7)) {
            // As the database refuses a value its index cannot hold; the transaction rolls back.
            throw new IllegalStateException(
                "storing the batch failed",
                new SQLException("index row size 3056 exceeds btree maximum, 2704", "54000"));
          }
          committed.addAll(batch);
        });
    List<StepFailed> good = publishFailures(queue, 3);
    StepFailed poison = RabbitTestSupport.failure(7);
    publisher.publish(EXCHANGE, RabbitTestSupport.routingKeyOf(queue), poison);
    List<StepFailed> more = publishFailures(queue, 2);

    // The batch fails, then its events one by one: the five good ones are stored, the poison
    // goes back to the queue once (its failure might have been a passing one).
    RabbitTestSupport.await(() -> sizes.size() >= 7);
    assertThat(sizes).containsExactly(6, 1, 1, 1, 1, 1, 1);
    // Redelivered, it joins the next batch and fails again alone: dead-lettered with the reason.
    List<StepFailed> later = publishFailures(queue, 5);
    RabbitTestSupport.await(() -> committed.size() >= 10);
    assertThat(committed)
        .containsExactlyElementsOf(
            java.util.stream.Stream.of(good, more, later).flatMap(List::stream).toList());
    assertThat(sizes).containsExactly(6, 1, 1, 1, 1, 1, 1, 6, 1, 1, 1, 1, 1, 1);
    try (Channel ch = broker.connection().createChannel()) {
      GetResponse dead = RabbitTestSupport.awaitDeadLetter(ch, queue);
      assertThat(dead.getProps().getMessageId()).isEqualTo(poison.eventId().toString());
      assertThat(dead.getProps().getHeaders().get(Headers.DEAD_LETTER_REASON).toString())
          .isEqualTo(
              "handling this event fails while others of its batch succeed, as on an earlier"
                  + " delivery: IllegalStateException: storing the batch failed (caused by"
                  + " SQLException: index row size 3056 exceeds btree maximum, 2704)");
      assertThat(ch.messageCount(queue.deadLetterQueue())).isZero();
    }
    // Every delivery was settled: closing the consumer returns nothing to the queue, not even
    // a moment later.
    consuming.connection().close();
    try (Channel ch = broker.connection().createChannel()) {
      org.awaitility.Awaitility.await()
          .during(Duration.ofMillis(500))
          .atMost(Duration.ofSeconds(5))
          .until(() -> RabbitTestSupport.messageCount(ch, queue.name()) == 0);
    }
  }

  @Test
  void aBatchFailingTransientlyIsWrittenAgainInPlaceAndNothingIsDeadLettered() throws Exception {
    QueueSpec queue = RabbitTestSupport.freshQueue(broker, EXCHANGE, "kit-batch-test");
    BatchConsumers consumers = consumers(broker);
    int failures = QueueSpec.DELIVERY_LIMIT + 5;
    AtomicInteger calls = new AtomicInteger();
    List<Integer> sizes = new CopyOnWriteArrayList<>();
    List<StepFailed> committed = new CopyOnWriteArrayList<>();
    consumers.consume(
        queue,
        StepFailed.class,
        new BatchConsumers.Options(5, Duration.ofSeconds(5), 5, 1),
        e -> {},
        batch -> {
          sizes.add(batch.size());
          if (calls.incrementAndGet() <= failures) {
            // As a pool reports a database it cannot reach within its acquisition timeout.
            throw new SQLException(
                "Acquisition timeout while waiting for new connection", new TimeoutException());
          }
          committed.addAll(batch);
        });
    List<StepFailed> sent = publishFailures(queue, 5);

    RabbitTestSupport.await(() -> committed.size() >= 5);
    // The same full batch each time: never returned to the queue and re-formed.
    assertThat(sizes).hasSize(failures + 1).containsOnly(5);
    assertThat(committed).containsExactlyInAnyOrderElementsOf(sent);
    try (Channel ch = broker.connection().createChannel()) {
      RabbitTestSupport.await(() -> RabbitTestSupport.messageCount(ch, queue.name()) == 0);
      assertThat(ch.messageCount(queue.deadLetterQueue())).isZero();
    }
  }

  @Test
  void theNextBatchIsReceivedWhileOneIsWrittenAndAcksFollowTheWrites() throws Exception {
    QueueSpec queue = RabbitTestSupport.freshQueue(broker, EXCHANGE, "kit-batch-test");
    RabbitBroker consuming = new RabbitBroker(RabbitTestSupport.config());
    BatchConsumers consumers = consumers(consuming);
    AtomicInteger checked = new AtomicInteger();
    CountDownLatch secondBatchDecoded = new CountDownLatch(1);
    AtomicBoolean decodedDuringFirstWrite = new AtomicBoolean();
    List<List<StepFailed>> batches = new CopyOnWriteArrayList<>();
    consumers.consume(
        queue,
        StepFailed.class,
        new BatchConsumers.Options(8, Duration.ofMillis(100), 32, 1),
        e -> {
          if (checked.incrementAndGet() == 16) {
            secondBatchDecoded.countDown();
          }
        },
        batch -> {
          if (batches.isEmpty()) {
            // The first write holds on until the delivery thread has decoded the second batch;
            // a consumer that writes on its delivery thread never gets there.
            decodedDuringFirstWrite.set(secondBatchDecoded.await(10, TimeUnit.SECONDS));
          }
          batches.add(batch);
        });
    List<StepFailed> sent = publishFailures(queue, 24);

    RabbitTestSupport.await(() -> batches.stream().mapToInt(List::size).sum() >= 24);
    assertThat(decodedDuringFirstWrite).isTrue();
    assertThat(batches.get(0)).hasSize(8);
    // One channel: batches are written one after the other, in delivery order.
    assertThat(batches.stream().flatMap(List::stream).toList()).containsExactlyElementsOf(sent);
    // Every batch was acknowledged: stopping (which lets the last write finish) and closing the
    // consumer returns nothing to the queue.
    // consumers.onStop(null);
    consuming.connection().close();
    try (Channel ch = broker.connection().createChannel()) {
      assertThat(ch.messageCount(queue.name())).isZero();
    }
  }

  @Test
  void aFailedBatchIsReturnedWhileTheBatchesAfterItAreWrittenAndAcknowledged() throws Exception {
    QueueSpec queue = RabbitTestSupport.freshQueue(broker, EXCHANGE, "kit-batch-test");
    RabbitBroker consuming = new RabbitBroker(RabbitTestSupport.config());
    BatchConsumers consumers = consumers(consuming);
    AtomicInteger calls = new AtomicInteger();
    AtomicInteger firstSize = new AtomicInteger(Integer.MAX_VALUE);
    List<StepFailed> committed = new CopyOnWriteArrayList<>();
    consumers.consume(
        queue,
        StepFailed.class,
        new BatchConsumers.Options(5, Duration.ofMillis(50), 20, 1),
        e -> {},
        batch -> {
          // The first batch fails whole and each of its events alone: it goes back to the queue.
          if (calls.incrementAndGet() == 1) {
            firstSize.set(batch.size());
          }
          if (calls.get() <= 1 + firstSize.get()) {
            throw new IllegalStateException("the handler failed");
          }
          committed.addAll(batch);
        });
    List<StepFailed> sent = publishFailures(queue, 15);

    RabbitTestSupport.await(() -> committed.size() >= 15);
    assertThat(committed).containsExactlyInAnyOrderElementsOf(sent);
    // consumers.onStop(null);
    consuming.connection().close();
    try (Channel ch = broker.connection().createChannel()) {
      assertThat(ch.messageCount(queue.name())).isZero();
      assertThat(ch.messageCount(queue.deadLetterQueue())).isZero();
    }
  }

  /** Consumers on {@code on}, retrying transient failures as the services do. */
  private static BatchConsumers consumers(RabbitBroker on) {
    return new BatchConsumers(
        on, OTEL, new TraceContexts(OTEL), RabbitTestSupport.retry(new SimpleMeterRegistry()));
  }

  /** Publishes {@code n} valid events to {@code queue}, confirmed, and returns them. */
  private static List<StepFailed> publishFailures(QueueSpec queue, int n) {
    List<Outgoing> sent = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      sent.add(
          Outgoing.now(
              EXCHANGE, RabbitTestSupport.routingKeyOf(queue), RabbitTestSupport.failure(1)));
    }
    publisher.publishAll(sent);
    return sent.stream().map(o -> (StepFailed) o.event()).toList();
  }
}
