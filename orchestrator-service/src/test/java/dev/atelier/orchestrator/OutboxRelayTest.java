package dev.atelier.orchestrator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.Delivery;
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
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "insert into outbox (exchange, routing_key, event_id, event_type, workflow_id,"
                    + " payload) values (?, ?, ?, ?, ?, ?::jsonb) returning id")) {
      ps.setString(1, Topology.WORKFLOW_EVENTS_EXCHANGE);
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
}
