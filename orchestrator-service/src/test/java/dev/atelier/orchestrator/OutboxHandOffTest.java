package dev.atelier.orchestrator;

import static dev.atelier.orchestrator.Api.submit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import dev.atelier.contracts.EventCodec;
import dev.atelier.contracts.Topology;
import dev.atelier.contracts.WorkflowStatusChanged;
import dev.atelier.orchestrator.messaging.OutboxRelay;
import dev.atelier.orchestrator.repository.OutboxRepository;
import dev.atelier.orchestrator.repository.OutboxRepository.Message;
import dev.atelier.orchestrator.service.Outbox;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Committed rows are handed to the relay in memory and published at once; the poll publishes only
 * rows the hand-off did not, once their grace has passed. The grace here is an hour, so whatever
 * goes out within the test went out by the hand-off, unless a row was written due sooner.
 */
@QuarkusTest
@TestProfile(OutboxHandOffTest.HourOfGrace.class)
class OutboxHandOffTest {

  public static class HourOfGrace implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of(
          "orchestrator.outbox.handoff-grace", "1h", "orchestrator.outbox.poll-interval", "100ms");
    }
  }

  /** When each workflow's status events arrived. Not {@link TestWorker}: see {@link #listen}. */
  private static final Map<UUID, Instant> arrived = new ConcurrentHashMap<>();

  private static com.rabbitmq.client.Connection connection;

  @Inject DataSource dataSource;
  @Inject Outbox outbox;
  @Inject OutboxRepository repository;
  @Inject OutboxRelay relay;

  /**
   * Listens to status events on a queue of its own. This class runs its own Quarkus application (a
   * test profile), whose class loader would hold a second {@link TestWorker}, competing with the
   * other classes' for the step queues.
   */
  @BeforeAll
  static void listen() throws Exception {
    connection = TestWorker.rabbit().newConnection("hand-off-test");
    Channel channel = connection.createChannel();
    String queue = channel.queueDeclare().getQueue();
    channel.queueBind(queue, Topology.WORKFLOW_EVENTS_EXCHANGE, "workflow.*");
    channel.basicConsume(
        queue,
        true,
        (tag, delivery) ->
            arrived.putIfAbsent(
                EventCodec.read(delivery.getBody(), WorkflowStatusChanged.class).workflowId(),
                Instant.now()),
        tag -> {});
  }

  @AfterAll
  static void stopListening() throws Exception {
    if (connection != null) {
      connection.close();
    }
  }

  private static WorkflowStatusChanged completed(UUID workflowId) {
    return new WorkflowStatusChanged(
        UUID.randomUUID(),
        WorkflowStatusChanged.TYPE,
        Instant.now(),
        workflowId,
        "software-delivery",
        1,
        "hand-off test",
        "default",
        "completed",
        "running",
        null);
  }

  private static Message completedMessage(UUID workflowId) {
    return new Message(
        Topology.WORKFLOW_EVENTS_EXCHANGE,
        Topology.workflowStatusRoutingKey("completed"),
        completed(workflowId));
  }

  private long rows(String where, Object... args) {
    return TestDb.count(dataSource, "select count(*) from outbox where " + where, args);
  }

  @Test
  void aSubmissionsMessagesGoOutByTheHandOffWithoutWaitingForThePoll() {
    UUID id = submit("software-delivery", "# Hand-off\nA requirement to dispatch at once.");

    await().atMost(Duration.ofSeconds(10)).until(() -> arrived.containsKey(id));
    // Its rows (the status event, the first step request) were due for the poll only in an hour;
    // a row is deleted once the broker has confirmed it.
    await().atMost(Duration.ofSeconds(10)).until(() -> rows("workflow_id = ?", id) == 0);
  }

  @Test
  void aRowNobodyHandedOffIsPublishedByThePollOnceItsGraceHasPassedAndNotBefore() {
    UUID soon = UUID.randomUUID();
    UUID later = UUID.randomUUID();
    // As a process that died right after its commit leaves them: written, never handed off.
    Instant written = Instant.now();
    repository.insertAll(List.of(completedMessage(soon)), Map.of(), Duration.ofSeconds(1));
    repository.insertAll(List.of(completedMessage(later)), Map.of(), Duration.ofHours(1));
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> arrived.containsKey(soon));
      assertThat(Duration.between(written, arrived.get(soon)))
          .isGreaterThanOrEqualTo(Duration.ofSeconds(1));
      assertThat(rows("workflow_id = ?", soon)).isZero();
      // The poll that published the first saw the second and left it: not due yet.
      assertThat(rows("workflow_id = ? and publish_attempts = 0", later)).isOne();
      assertThat(arrived).doesNotContainKey(later);
    } finally {
      TestDb.update(dataSource, "delete from outbox where workflow_id = ?", later);
    }
  }

  @Test
  void aHandOffTheBrokerRefusesStaysInTheOutboxForThePollAndTheNextOneGoesOut() {
    UUID refused = UUID.randomUUID();
    UUID next = UUID.randomUUID();
    // Outside a transaction the row commits with its insert and is handed off at once.
    outbox.add(Topology.WORKFLOW_EVENTS_EXCHANGE, "nowhere.at.all", completed(refused));
    try {
      // Taken by the relay: the next hand-off is a batch of its own, published after this one.
      await().atMost(Duration.ofSeconds(10)).until(() -> relay.handedOffWaiting() == 0);
      outbox.add(
          Topology.WORKFLOW_EVENTS_EXCHANGE,
          Topology.workflowStatusRoutingKey("completed"),
          completed(next));

      await().atMost(Duration.ofSeconds(10)).until(() -> arrived.containsKey(next));
      await().atMost(Duration.ofSeconds(10)).until(() -> rows("workflow_id = ?", next) == 0);
      // Not lost and not counted as a failed attempt: the poll publishes it once it is due.
      assertThat(
              rows("workflow_id = ? and publish_attempts = 0 and next_attempt_at > now()", refused))
          .isOne();
      assertThat(arrived).doesNotContainKey(refused);
    } finally {
      TestDb.update(dataSource, "delete from outbox where workflow_id = ?", refused);
    }
  }
}
