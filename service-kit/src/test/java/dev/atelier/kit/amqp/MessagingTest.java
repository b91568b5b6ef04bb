package dev.atelier.kit.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import dev.atelier.contracts.EventCodec;
import dev.atelier.contracts.Headers;
import dev.atelier.contracts.QueueSpec;
import dev.atelier.contracts.StepFailed;
import dev.atelier.contracts.Topology;
import dev.atelier.kit.tracing.TraceContexts;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.ContextPropagators;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Publisher and consumers against the real RabbitMQ, in their own virtual host. */
class MessagingTest {

  private static final String EXCHANGE = Topology.STEP_RESULTS_EXCHANGE;
  private static RabbitBroker broker;
  private static EventPublisher publisher;
  private static EventConsumers consumers;
  private static final SimpleMeterRegistry METERS = new SimpleMeterRegistry();

  @BeforeAll
  static void connect() {
    OpenTelemetry otel =
        OpenTelemetry.propagating(
            ContextPropagators.create(W3CTraceContextPropagator.getInstance()));
    broker = new RabbitBroker(RabbitTestSupport.config());
    TraceContexts traces = new TraceContexts(otel);
    MessagingSpans spans = new MessagingSpans(otel);
    publisher = new EventPublisher(broker, spans, traces);
    consumers = new EventConsumers(broker, spans, traces, RabbitTestSupport.retry(METERS));
  }

  @AfterAll
  static void close() throws Exception {
    broker.connection().close();
  }

  @Test
  void aConfirmedPublishIsOnTheQueueWithItsIdTypeAndTraceContext() throws Exception {
    QueueSpec queue = RabbitTestSupport.freshQueue(broker, EXCHANGE, "kit-test");
    StepFailed event = RabbitTestSupport.failure(1);
    SpanContext parent = remoteParent();

    publisher.publishAll(
        List.of(
            new Outgoing(
                EXCHANGE,
                RabbitTestSupport.routingKeyOf(queue),
                event,
                Context.root().with(Span.wrap(parent)))));

    try (Channel ch = broker.connection().createChannel()) {
      GetResponse got = ch.basicGet(queue.name(), true);
      assertThat(got).isNotNull();
      assertThat(got.getProps().getMessageId()).isEqualTo(event.eventId().toString());
      assertThat(got.getProps().getDeliveryMode()).isEqualTo(2);
      assertThat(got.getProps().getHeaders().get(Headers.EVENT_TYPE).toString())
          .isEqualTo(StepFailed.TYPE);
      assertThat(got.getProps().getHeaders().get(Headers.TRACEPARENT).toString())
          .startsWith("00-" + parent.getTraceId() + "-");
    }
  }

  @Test
  void anEventNoQueueWouldReceiveIsReportedNotDropped() {
    assertThatThrownBy(
            () ->
                publisher.publish(
                    EXCHANGE, "nobody.listens." + UUID.randomUUID(), RabbitTestSupport.failure(1)))
        .isInstanceOf(PublishException.class)
        .hasMessageContaining("unroutable");
  }

  @Test
  void aPoisonMessageIsDeadLetteredWithItsReasonAndTheQueueMovesOn() throws Exception {
    QueueSpec queue = RabbitTestSupport.freshQueue(broker, EXCHANGE, "kit-test");
    List<StepFailed> handled = new CopyOnWriteArrayList<>();
    consumers.consume(queue, StepFailed.class, 5, 1, (e, d) -> handled.add(e));

    try (Channel ch = broker.connection().createChannel()) {
      ch.basicPublish(
          EXCHANGE,
          RabbitTestSupport.routingKeyOf(queue),
          null,
          "{not json".getBytes(StandardCharsets.UTF_8));
    }
    StepFailed good = RabbitTestSupport.failure(1);
    publisher.publish(EXCHANGE, RabbitTestSupport.routingKeyOf(queue), good);

    RabbitTestSupport.await(() -> handled.size() == 1);
    assertThat(handled).containsExactly(good);
    try (Channel ch = broker.connection().createChannel()) {
      GetResponse dead = awaitMessage(ch, queue.deadLetterQueue());
      assertThat(new String(dead.getBody(), StandardCharsets.UTF_8)).isEqualTo("{not json");
      assertThat(dead.getProps().getHeaders().get(Headers.DEAD_LETTER_REASON).toString())
          .startsWith("body is not JSON");
    }
  }

  @Test
  void aHandlerThrowingAnErrorDoesNotStopTheConsumer() throws Exception {
    // Thrown to the client library, an Error closed the channel for good (no recovery reopens it).
    QueueSpec queue = RabbitTestSupport.freshQueue(broker, EXCHANGE, "kit-test");
    AtomicInteger calls = new AtomicInteger();
    List<StepFailed> handled = new CopyOnWriteArrayList<>();
    consumers.consume(
        queue,
        StepFailed.class,
        1,
        1,
        (e, d) -> {
          if (calls.incrementAndGet() == 1) {
            throw new StackOverflowError("deeply nested");
          }
          handled.add(e);
        });
    StepFailed first = RabbitTestSupport.failure(1);
    StepFailed next = RabbitTestSupport.failure(1);

    publisher.publish(EXCHANGE, RabbitTestSupport.routingKeyOf(queue), first);
    publisher.publish(EXCHANGE, RabbitTestSupport.routingKeyOf(queue), next);

    RabbitTestSupport.await(() -> handled.size() == 2);
    // The first came back to the queue and was handled on its redelivery.
    assertThat(handled).containsExactlyInAnyOrder(first, next);
  }

  @Test
  void aBodyWithAnEmptyEventIdIsDeadLetteredWithItsReasonAndTheQueueMovesOn() throws Exception {
    QueueSpec queue = RabbitTestSupport.freshQueue(broker, EXCHANGE, "kit-test");
    List<StepFailed> handled = new CopyOnWriteArrayList<>();
    consumers.consume(queue, StepFailed.class, 5, 1, (e, d) -> handled.add(e));
    ObjectNode tree =
        (ObjectNode) EventCodec.mapper().readTree(EventCodec.write(RabbitTestSupport.failure(1)));
    tree.put("eventId", "");
    byte[] noId = EventCodec.mapper().writeValueAsBytes(tree);

    try (Channel ch = broker.connection().createChannel()) {
      ch.basicPublish(EXCHANGE, RabbitTestSupport.routingKeyOf(queue), null, noId);
    }
    StepFailed good = RabbitTestSupport.failure(1);
    publisher.publish(EXCHANGE, RabbitTestSupport.routingKeyOf(queue), good);

    RabbitTestSupport.await(() -> handled.size() == 1);
    assertThat(handled).containsExactly(good);
    try (Channel ch = broker.connection().createChannel()) {
      GetResponse dead = awaitMessage(ch, queue.deadLetterQueue());
      assertThat(dead.getBody()).isEqualTo(noId);
      assertThat(dead.getProps().getHeaders().get(Headers.DEAD_LETTER_REASON).toString())
          .isEqualTo("eventId is empty");
    }
  }

  @Test
  void anUnroutableBatchNamesTheEventsThatCameBackAndDeliversTheOthers() throws Exception {
    QueueSpec queue = RabbitTestSupport.freshQueue(broker, EXCHANGE, "kit-test");
    StepFailed routed = RabbitTestSupport.failure(1);
    StepFailed lost = RabbitTestSupport.failure(1);

    assertThatThrownBy(
            () ->
                publisher.publishAll(
                    List.of(
                        Outgoing.now(EXCHANGE, RabbitTestSupport.routingKeyOf(queue), routed),
                        Outgoing.now(EXCHANGE, "nobody.listens." + UUID.randomUUID(), lost))))
        .isInstanceOfSatisfying(
            UnroutableException.class,
            e -> assertThat(e.returnedEventIds()).containsExactly(lost.eventId()))
        .hasMessageContaining("unroutable");

    try (Channel ch = broker.connection().createChannel()) {
      GetResponse got = ch.basicGet(queue.name(), true);
      assertThat(got.getProps().getMessageId()).isEqualTo(routed.eventId().toString());
      assertThat(ch.messageCount(queue.name())).isZero();
    }
  }

  @Test
  void aStreamIsReadWholeByEveryReaderHistoryFirst() throws Exception {
    String stream = "kit-test-stream." + UUID.randomUUID();
    String key = "kit." + stream;
    List<String> first = new CopyOnWriteArrayList<>();
    List<String> late = new CopyOnWriteArrayList<>();
    try {
      readInto(stream, key, first);
      StepFailed before = RabbitTestSupport.failure(1);
      publisher.publish(EXCHANGE, key, before);
      RabbitTestSupport.await(() -> first.contains(before.eventId().toString()));

      // A reader that comes later (a replica starting) gets what came before it, then what follows:
      // read, not taken from the first.
      readInto(stream, key, late);
      StepFailed after = RabbitTestSupport.failure(1);
      publisher.publish(EXCHANGE, key, after);
      RabbitTestSupport.await(() -> late.size() == 2 && first.size() == 2);
      assertThat(late).containsExactly(before.eventId().toString(), after.eventId().toString());
      assertThat(first).containsExactly(before.eventId().toString(), after.eventId().toString());

      // The stream deleted (to change its retention): the broker cancels its readers, which
      // declare it again and read on.
      try (Channel ch = broker.connection().createChannel()) {
        ch.queueDelete(stream);
      }
      // Published until both read one: right after the delete, the old stream may still take one.
      List<String> sent = new CopyOnWriteArrayList<>();
      RabbitTestSupport.await(
          () -> {
            StepFailed next = RabbitTestSupport.failure(1);
            if (publishedTo(key, next)) {
              sent.add(next.eventId().toString());
            }
            return late.stream().anyMatch(sent::contains)
                && first.stream().anyMatch(sent::contains);
          });
    } finally {
      try (Channel ch = broker.connection().createChannel()) {
        ch.queueDelete(stream);
      }
    }
  }

  /** A reader of {@code stream} from a minute back, collecting message ids into {@code read}. */
  private static void readInto(String stream, String key, List<String> read) {
    broker.replay(
        stream,
        EXCHANGE,
        List.of(key),
        Duration.ofMinutes(5),
        Duration.ofMinutes(1),
        (tag, d) -> read.add(d.getProperties().getMessageId()));
  }

  /** Publishes {@code event}; false while nothing would receive it. */
  private static boolean publishedTo(String key, StepFailed event) {
    try {
      publisher.publish(EXCHANGE, key, event);
      return true;
    } catch (PublishException e) {
      return false;
    }
  }

  @Test
  void aChannelTheBrokerClosesIsConsumedAgainOnANewOne() throws Exception {
    // The broker closes a channel by itself, e.g. when a delivery stays unacknowledged past its
    // consumer timeout; automatic recovery does not reopen it.
    List<Channel> opened = new CopyOnWriteArrayList<>();
    RabbitBroker recording =
        new RabbitBroker(RabbitTestSupport.config()) {
          @Override
          public Connection connection() {
            return recordingChannels(super.connection(), opened);
          }
        };
    EventConsumers own = consumersOn(recording);
    QueueSpec queue = RabbitTestSupport.freshQueue(broker, EXCHANGE, "kit-test");
    List<StepFailed> handled = new CopyOnWriteArrayList<>();
    try {
      own.consume(queue, StepFailed.class, 1, 1, (e, d) -> handled.add(e));
      // The last channel opened consumes (an earlier one declared the queue).
      int before = opened.size();
      Channel first = opened.get(before - 1);

      // Acknowledging a delivery it never made is a channel error: the broker closes the channel.
      first.basicAck(1_000_000, false);
      RabbitTestSupport.await(() -> !first.isOpen());
      StepFailed after = RabbitTestSupport.failure(1);
      publisher.publish(EXCHANGE, RabbitTestSupport.routingKeyOf(queue), after);

      RabbitTestSupport.await(() -> handled.contains(after));
      assertThat(opened).hasSize(before + 1);
      assertThat(opened.get(before).isOpen()).isTrue();
      // One channel replaces the closed one, and stays the only one (a second replacement would
      // come after the same pause as the first).
      try (Channel ch = broker.connection().createChannel()) {
        Awaitility.await()
            .during(Duration.ofSeconds(3))
            .atMost(Duration.ofSeconds(10))
            .until(() -> consumerCount(ch, queue.name()) == 1);
      }
      assertThat(opened).hasSize(before + 1);
    } finally {
      recording.connection().close();
    }
  }

  @Test
  void cancelledConsumersTakeNoMoreDeliveriesWhileTheOneTheyHandleFinishes() throws Exception {
    RabbitBroker own = new RabbitBroker(RabbitTestSupport.config());
    EventConsumers stopping = consumersOn(own);
    QueueSpec queue = RabbitTestSupport.freshQueue(broker, EXCHANGE, "kit-test");
    List<StepFailed> handled = new CopyOnWriteArrayList<>();
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    StepFailed first = RabbitTestSupport.failure(1);
    StepFailed later = RabbitTestSupport.failure(1);
    try (Channel ch = broker.connection().createChannel()) {
      stopping.consume(
          queue,
          StepFailed.class,
          1,
          2,
          (e, d) -> {
            running.countDown();
            finish.await();
            handled.add(e);
          });
      publisher.publish(EXCHANGE, RabbitTestSupport.routingKeyOf(queue), first);
      assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();

      assertThat(stopping.cancelAll()).isTrue();
      publisher.publish(EXCHANGE, RabbitTestSupport.routingKeyOf(queue), later);
      // The idle channel takes nothing more: the later event waits on the queue for another
      // consumer (its handler would hold it, uncounted, until released below).
      Awaitility.await()
          .during(Duration.ofSeconds(1))
          .atMost(Duration.ofSeconds(5))
          .until(() -> messageCount(ch, queue.name()) == 1);
      finish.countDown();
      RabbitTestSupport.await(() -> handled.contains(first));
      assertThat(handled).containsExactly(first);
      assertThat(messageCount(ch, queue.name())).isEqualTo(1);
    } finally {
      finish.countDown();
      if (own.connection().isOpen()) {
        own.connection().close();
      }
    }
  }

  /** Consumers on a connection of their own, untraced. */
  private static EventConsumers consumersOn(RabbitBroker own) {
    OpenTelemetry otel = OpenTelemetry.noop();
    return new EventConsumers(
        own, new MessagingSpans(otel), new TraceContexts(otel), RabbitTestSupport.retry(METERS));
  }

  private static long messageCount(Channel ch, String queue) {
    try {
      return ch.messageCount(queue);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static long consumerCount(Channel ch, String queue) {
    try {
      return ch.consumerCount(queue);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The connection, recording each channel it opens. */
  private static Connection recordingChannels(Connection real, List<Channel> opened) {
    return (Connection)
        Proxy.newProxyInstance(
            Connection.class.getClassLoader(),
            new Class<?>[] {Connection.class},
            (proxy, method, args) -> {
              try {
                Object result = method.invoke(real, args);
                if (method.getName().equals("createChannel") && result instanceof Channel ch) {
                  opened.add(ch);
                }
                return result;
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  @Test
  void aFailingHandlerGetsTheMessageAgainInTheSameTrace() throws Exception {
    QueueSpec queue = RabbitTestSupport.freshQueue(broker, EXCHANGE, "kit-test");
    AtomicInteger calls = new AtomicInteger();
    List<String> traceIds = new CopyOnWriteArrayList<>();
    List<Long> deliveryCounts = new CopyOnWriteArrayList<>();
    consumers.consume(
        queue,
        StepFailed.class,
        1,
        1,
        (e, d) -> {
          traceIds.add(Span.current().getSpanContext().getTraceId());
          deliveryCounts.add(d.deliveryCount());
          if (calls.incrementAndGet() == 1) {
            throw new IllegalStateException("the handler failed");
          }
        });
    SpanContext parent = remoteParent();

    publisher.publishAll(
        List.of(
            new Outgoing(
                EXCHANGE,
                RabbitTestSupport.routingKeyOf(queue),
                RabbitTestSupport.failure(1),
                Context.root().with(Span.wrap(parent)))));

    RabbitTestSupport.await(() -> calls.get() == 2);
    assertThat(traceIds).containsOnly(parent.getTraceId());
    assertThat(deliveryCounts).containsExactly(0L, 1L);
    try (Channel ch = broker.connection().createChannel()) {
      assertThat(ch.messageCount(queue.name())).isZero();
    }
  }

  @Test
  void aHandlerFailingTransientlyRunsAgainInPlaceWithoutSpendingDeliveries() throws Exception {
    // More failures than the queue's delivery limit: returned to the queue each time, the message
    // would be dead-lettered (as every in-flight message was during a database restart).
    QueueSpec queue = RabbitTestSupport.freshQueue(broker, EXCHANGE, "kit-test");
    int failures = QueueSpec.DELIVERY_LIMIT + 5;
    AtomicInteger calls = new AtomicInteger();
    List<Long> deliveryCounts = new CopyOnWriteArrayList<>();
    List<Double> heldSeen = new CopyOnWriteArrayList<>();
    consumers.consume(
        queue,
        StepFailed.class,
        1,
        1,
        (e, d) -> {
          deliveryCounts.add(d.deliveryCount());
          heldSeen.add(held(queue));
          if (calls.incrementAndGet() <= failures) {
            throw new IllegalStateException(
                "cannot update workflow", new SQLException("Connection refused", "08001"));
          }
        });

    publisher.publish(
        EXCHANGE, RabbitTestSupport.routingKeyOf(queue), RabbitTestSupport.failure(1));

    RabbitTestSupport.await(() -> calls.get() == failures + 1);
    assertThat(deliveryCounts).hasSize(failures + 1).containsOnly(0L);
    // The queue's held-handlers gauge: 0 on the first run, 1 while retried, 0 once handled.
    assertThat(heldSeen.get(0)).isZero();
    assertThat(heldSeen.subList(1, heldSeen.size())).containsOnly(1.0);
    RabbitTestSupport.await(() -> held(queue) == 0);
    assertThat(
            METERS
                .get("atelier.messaging.transient.failures")
                .tag("queue", queue.name())
                .counter()
                .count())
        .isEqualTo(failures);
    try (Channel ch = broker.connection().createChannel()) {
      RabbitTestSupport.await(() -> RabbitTestSupport.messageCount(ch, queue.name()) == 0);
      assertThat(ch.messageCount(queue.deadLetterQueue())).isZero();
    }
  }

  private static double held(QueueSpec queue) {
    return METERS.get("atelier.messaging.handlers.held").tag("queue", queue.name()).gauge().value();
  }

  private static SpanContext remoteParent() {
    String traceId = UUID.randomUUID().toString().replace("-", "");
    String spanId = traceId.substring(0, 16);
    return SpanContext.createFromRemoteParent(
        traceId, spanId, TraceFlags.getSampled(), TraceState.getDefault());
  }

  private static GetResponse awaitMessage(Channel ch, String queue) throws Exception {
    GetResponse[] got = new GetResponse[1];
    RabbitTestSupport.await(
        () -> {
          try {
            got[0] = ch.basicGet(queue, true);
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
          return got[0] != null;
        });
    return got[0];
  }
}
