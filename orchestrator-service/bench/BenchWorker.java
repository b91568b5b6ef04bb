import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import dev.atelier.contracts.ArtifactRef;
import dev.atelier.contracts.EventCodec;
import dev.atelier.contracts.StepCompleted;
import dev.atelier.contracts.StepRequested;
import dev.atelier.contracts.Topology;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * Plays the agent workers during the submit-latency benchmark, so workflows run while submissions
 * come in: takes step requests from the step queues of the bench vhost and answers each with a
 * {@code StepCompleted} (the reviewer approves), at most RATE results per second, for SECONDS
 * seconds, then exits. What it cannot answer in time stays queued.
 *
 * <p>Run with the service's own libraries (single-file source launch, JDK 17): {@code java -cp
 * 'target/quarkus-app/lib/main/*' bench/BenchWorker.java VHOST RATE SECONDS}
 */
public class BenchWorker {

  private static final List<String> ROLES =
      List.of(
          "business-analyst", "architect", "developer", "tester", "reviewer", "technical-writer");

  public static void main(String[] args) throws Exception {
    String vhost = args[0];
    double rate = Double.parseDouble(args[1]);
    long seconds = Long.parseLong(args[2]);
    ConnectionFactory factory = new ConnectionFactory();
    factory.setHost("127.0.0.1");
    factory.setVirtualHost(vhost);
    long answered = 0;
    try (Connection connection = factory.newConnection("orchestrator-bench-worker")) {
      Channel channel = connection.createChannel();
      channel.confirmSelect();
      AMQP.BasicProperties props =
          new AMQP.BasicProperties.Builder().contentType("application/json").deliveryMode(2).build();
      long start = System.nanoTime();
      long end = start + seconds * 1_000_000_000L;
      int role = 0;
      int idle = 0;
      while (System.nanoTime() < end) {
        // Open loop: result n goes out at start + n / rate, never faster.
        long due = start + (long) (answered * 1_000_000_000L / rate);
        long wait = due - System.nanoTime();
        if (wait > 0) {
          Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
        GetResponse got = channel.basicGet(Topology.stepQueue(ROLES.get(role)).name(), true);
        role = (role + 1) % ROLES.size();
        if (got == null) {
          if (++idle >= ROLES.size()) {
            idle = 0;
            Thread.sleep(20);
          }
          continue;
        }
        idle = 0;
        StepRequested q = EventCodec.read(got.getBody(), StepRequested.class);
        StepCompleted done =
            new StepCompleted(
                UUID.randomUUID(),
                StepCompleted.TYPE,
                Instant.now(),
                q.workflowId(),
                q.stepId(),
                q.stepKey(),
                q.role(),
                q.attempt(),
                List.of(new ArtifactRef(q.agent().outputArtifact(), q.attempt())),
                q.role().equals("reviewer") ? "approved" : null,
                "bench",
                Instant.now());
        channel.basicPublish(
            Topology.STEP_RESULTS_EXCHANGE,
            Topology.RESULT_COMPLETED,
            props,
            EventCodec.write(done));
        if (++answered % 50 == 0) {
          channel.waitForConfirmsOrDie(10_000);
        }
      }
      channel.waitForConfirmsOrDie(10_000);
    }
    System.out.printf("{\"bench_worker_results\": %d, \"seconds\": %d}%n", answered, seconds);
  }
}
