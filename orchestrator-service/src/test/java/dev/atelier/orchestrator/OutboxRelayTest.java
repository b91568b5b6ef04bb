package dev.atelier.orchestrator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.Delivery;
import com.rabbitmq.client.GetResponse;
import dev.atelier.contracts.EventCodec;
import dev.atelier.contracts.Headers;
import dev.atelier.contracts.Topology;
import dev.atelier.contracts.WorkflowStatusChanged;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import javax.sql.DataSource;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The relay publishes the stored bytes as they are, publishes what it can and keeps what the broker
 * refuses; rows stored before bodies were (a JSON payload) are still published.
 */
@QuarkusTest
class OutboxRelayTest {

  private static TestWorker worker;

  @Inject DataSource dataSource;

  @BeforeAll
  static void startWorker() throws Exception {
    worker = TestWorker.shared();
  }

  private long insert(String routingKey, WorkflowStatusChanged event) throws Exception {
    try (Connection c = dataSource.getConnection()) {
      return insert(c, Topology.WORKFLOW_EVENTS_EXCHANGE, routingKey, event);
    }
  }

  private static long insert(
      Connection c, String exchange, String routingKey, WorkflowStatusChanged event)
      throws Exception {
    try (PreparedStatement ps =
        c.prepareStatement(
            "insert into outbox (exchange, routing_key, event_id, event_type, workflow_id,"
                + " payload) values (?, ?, ?, ?, ?, ?::jsonb) returning id")) {
      ps.setString(1, exchange);
      ps.setString(2, routingKey);
      ps.setObject(3, event.eventId());
      ps.setString(4, event.type());
      ps.setObject(5, event.workflowId());
      ps.setString(6, new String(EventCodec.write(event), StandardCharsets.UTF_8));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private void insertStored(String routingKey, WorkflowStatusChanged event, byte[] body)
      throws Exception {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "insert into outbox (exchange, routing_key, event_id, event_type, workflow_id,"
                    + " occurred_at, body) values (?, ?, ?, ?, ?, ?, ?)")) {
      ps.setString(1, Topology.WORKFLOW_EVENTS_EXCHANGE);
      ps.setString(2, routingKey);
      ps.setObject(3, event.eventId());
      ps.setString(4, event.type());
      ps.setObject(5, event.workflowId());
      ps.setObject(6, event.occurredAt().atOffset(ZoneOffset.UTC));
      ps.setBytes(7, body);
      ps.executeUpdate();
    }
  }

  private static WorkflowStatusChanged event(UUID workflowId) {
    return new WorkflowStatusChanged(
        UUID.randomUUID(),
        WorkflowStatusChanged.TYPE,
        Instant.now(),
        workflowId,
        "software-delivery",
        1,
        "relay test",
        "default",
        "completed",
        "running",
        null);
  }

  @Test
  void aStoredBodyIsPublishedByteForByteWithItsProperties() throws Exception {
    WorkflowStatusChanged event = event(UUID.randomUUID());
    // Indented JSON: what the codec would write again differs, so only the stored bytes match.
    byte[] body =
        new ObjectMapper()
            .writerWithDefaultPrettyPrinter()
            .writeValueAsBytes(new ObjectMapper().readTree(EventCodec.write(event)));
    assertThat(body).isNotEqualTo(EventCodec.write(event));
    BlockingQueue<Delivery> received = new LinkedBlockingQueue<>();
    try (com.rabbitmq.client.Connection connection = rabbit().newConnection("relay-test");
        Channel channel = connection.createChannel()) {
      String queue = channel.queueDeclare().getQueue();
      channel.queueBind(queue, Topology.WORKFLOW_EVENTS_EXCHANGE, "workflow.completed");
      channel.basicConsume(queue, true, (tag, delivery) -> received.add(delivery), tag -> {});

      insertStored(Topology.workflowStatusRoutingKey("completed"), event, body);

      Delivery delivery =
          await()
              .atMost(Duration.ofSeconds(10))
              .until(
                  () -> received.stream().filter(d -> d.getBody().length == body.length).findAny(),
                  java.util.Optional::isPresent)
              .orElseThrow();
      assertThat(delivery.getBody()).isEqualTo(body);
      assertThat(delivery.getProperties().getMessageId()).isEqualTo(event.eventId().toString());
      assertThat(delivery.getProperties().getType()).isEqualTo(WorkflowStatusChanged.TYPE);
      assertThat(String.valueOf(delivery.getProperties().getHeaders().get(Headers.EVENT_TYPE)))
          .isEqualTo(WorkflowStatusChanged.TYPE);
      assertThat(delivery.getProperties().getHeaders()).containsKey("traceparent");
      assertThat(delivery.getProperties().getTimestamp().toInstant())
          .isEqualTo(event.occurredAt().truncatedTo(ChronoUnit.SECONDS));
      // ... and decodes to the event stored.
      assertThat(EventCodec.read(delivery.getBody(), WorkflowStatusChanged.class).eventId())
          .isEqualTo(event.eventId());
    }
  }

  private static ConnectionFactory rabbit() {
    ConnectionFactory factory = new ConnectionFactory();
    var config = ConfigProvider.getConfig();
    factory.setHost(config.getOptionalValue("rabbitmq.host", String.class).orElse("127.0.0.1"));
    factory.setPort(config.getOptionalValue("rabbitmq.port", Integer.class).orElse(5672));
    factory.setVirtualHost(config.getValue("rabbitmq.virtual-host", String.class));
    return factory;
  }

  @Test
  void unroutableRowIsKeptAndBackedOffWhileTheOthersArePublished() throws Exception {
    UUID lost = UUID.randomUUID();
    UUID delivered = UUID.randomUUID();
    long unroutable = insert("nowhere.at.all", event(lost));
    long routable = insert(Topology.workflowStatusRoutingKey("completed"), event(delivered));

    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> !worker.statusEvents(delivered).isEmpty());
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  TestDb.count(
                          dataSource,
                          "select count(*) from outbox where id = ? and publish_attempts >= 1"
                              + " and last_error like 'unroutable%' and next_attempt_at > now()",
                          unroutable)
                      == 1);
      assertThat(TestDb.count(dataSource, "select count(*) from outbox where id = ?", routable))
          .isZero();
      assertThat(worker.statusEvents(lost)).isEmpty();
    } finally {
      // Otherwise the row would be retried as long as the test database lives.
      try (Connection c = dataSource.getConnection();
          PreparedStatement ps = c.prepareStatement("delete from outbox where id = ?")) {
        ps.setLong(1, unroutable);
        ps.executeUpdate();
      }
    }
  }

  @Test
  void theBatchMatesOfAnUnroutableRowAreDeliveredExactlyOnceAlsoWhenItIsRetried() throws Exception {
    String key = "relay-test." + UUID.randomUUID();
    List<UUID> sent = new ArrayList<>();
    try (com.rabbitmq.client.Connection connection = rabbit().newConnection("relay-test");
        Channel channel = connection.createChannel()) {
      String queue = channel.queueDeclare().getQueue();
      channel.queueBind(queue, Topology.WORKFLOW_EVENTS_EXCHANGE, key);
      long unroutable;
      // One commit: the relay takes the unroutable row and its batch-mates in one batch.
      try (Connection c = dataSource.getConnection()) {
        c.setAutoCommit(false);
        unroutable =
            insert(
                c,
                Topology.WORKFLOW_EVENTS_EXCHANGE,
                "nowhere." + UUID.randomUUID(),
                event(UUID.randomUUID()));
        sent.addAll(insertRoutable(c, key, 3));
        c.commit();
      }
      try {
        await().atMost(Duration.ofSeconds(10)).until(() -> attempts(unroutable) >= 1);
        // Its retry: it becomes due in the same commit as new rows, so it leads their batch. The
        // lock keeps the relay from retrying it on its own meanwhile.
        long before;
        try (Connection c = dataSource.getConnection()) {
          c.setAutoCommit(false);
          try (PreparedStatement ps =
              c.prepareStatement("select publish_attempts from outbox where id = ? for update")) {
            ps.setLong(1, unroutable);
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              before = rs.getLong(1);
            }
          }
          try (PreparedStatement ps =
              c.prepareStatement("update outbox set next_attempt_at = now() where id = ?")) {
            ps.setLong(1, unroutable);
            ps.executeUpdate();
          }
          sent.addAll(insertRoutable(c, key, 3));
          c.commit();
        }
        await()
            .atMost(Duration.ofSeconds(10))
            .until(
                () ->
                    attempts(unroutable) > before
                        && TestDb.count(
                                dataSource,
                                "select count(*) from outbox where routing_key = ?",
                                key)
                            == 0);

        // A row is deleted only after the broker confirmed it: every copy ever published is on
        // the queue by now.
        Map<UUID, Integer> delivered = new HashMap<>();
        GetResponse got;
        while ((got = channel.basicGet(queue, true)) != null) {
          delivered.merge(UUID.fromString(got.getProps().getMessageId()), 1, Integer::sum);
        }
        assertThat(delivered.keySet()).containsExactlyInAnyOrderElementsOf(sent);
        assertThat(delivered.values()).containsOnly(1);
        assertThat(
                TestDb.count(
                    dataSource,
                    "select count(*) from outbox where id = ? and last_error like 'unroutable%'",
                    unroutable))
            .isEqualTo(1);
      } finally {
        TestDb.update(dataSource, "delete from outbox where id = ?", unroutable);
      }
    }
  }

  @Test
  void aDeletedStepQueueIsDeclaredAgainAndTheRequestDelivered() throws Exception {
    String role = "relay-test-" + UUID.randomUUID();
    String queue = Topology.stepQueue(role).name();
    String key = Topology.stepRoutingKey(role);
    try (com.rabbitmq.client.Connection connection = rabbit().newConnection("relay-test")) {
      try {
        // The relay does not read the body: any event will do.
        publishStep(key, event(UUID.randomUUID()));
        try (Channel channel = connection.createChannel()) {
          assertThat(channel.basicGet(queue, true)).isNotNull();
          // Deleted behind the orchestrator's back (an operator, a broker reset).
          channel.queueDelete(queue);
        }

        WorkflowStatusChanged again = event(UUID.randomUUID());
        publishStep(key, again);

        try (Channel channel = connection.createChannel()) {
          GetResponse got = channel.basicGet(queue, true);
          assertThat(got).isNotNull();
          assertThat(got.getProps().getMessageId()).isEqualTo(again.eventId().toString());
        }
      } finally {
        TestDb.update(dataSource, "delete from outbox where routing_key = ?", key);
        try (Channel channel = connection.createChannel()) {
          channel.queueDelete(queue);
        }
      }
    }
  }

  /** Writes a step request row and waits until the relay has published it (deleted the row). */
  private void publishStep(String key, WorkflowStatusChanged event) throws Exception {
    try (Connection c = dataSource.getConnection()) {
      insert(c, Topology.STEPS_EXCHANGE, key, event);
    }
    await()
        .atMost(Duration.ofSeconds(15))
        .until(
            () ->
                TestDb.count(dataSource, "select count(*) from outbox where routing_key = ?", key)
                    == 0);
  }

  private static List<UUID> insertRoutable(Connection c, String key, int n) throws Exception {
    List<UUID> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      WorkflowStatusChanged e = event(UUID.randomUUID());
      insert(c, Topology.WORKFLOW_EVENTS_EXCHANGE, key, e);
      ids.add(e.eventId());
    }
    return ids;
  }

  private long attempts(long id) {
    return TestDb.count(dataSource, "select publish_attempts from outbox where id = ?", id);
  }
}
