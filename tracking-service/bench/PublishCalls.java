import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import dev.atelier.kit.ids.TimeOrderedIds;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/**
 * Benchmark load: builds N LlmCallRecorded bodies in memory first (team = the given marker, the
 * same agents, providers and models as generate.sql), then publishes them to atelier.llm-calls as
 * fast as publisher confirms allow (a window of 5,000 unconfirmed), and prints the publish rate.
 * Run: java -cp amqp-client.jar:slf4j-api.jar:service-kit.jar PublishCalls.java <vhost> <count> <team>
 */
public class PublishCalls {
  private static final String[] AGENTS = {
    "business-analyst", "architect", "developer", "reviewer", "tester", "devops", "writer", "planner"
  };
  private static final String[] MODELS = {
    "gpt-4o", "gpt-4o-mini", "claude-sonnet", "claude-haiku", "llama-3.1-8b", "mistral-large"
  };
  private static final String[] PROVIDERS = {
    "openai", "openai", "anthropic", "anthropic", "simulated", "simulated"
  };

  public static void main(String[] args) throws Exception {
    String vhost = args[0];
    int count = Integer.parseInt(args[1]);
    String team = args[2];
    byte[][] bodies = new byte[count][];
    String[] ids = new String[count];
    Instant base = Instant.now();
    // Ids as the gateway and orchestrator make them (time-ordered, version 7) unless RANDOM_IDS=1.
    boolean randomIds = "1".equals(System.getenv("RANDOM_IDS"));
    UUID[] workflows = new UUID[count / 40 + 1];
    for (int w = 0; w < workflows.length; w++) {
      workflows[w] = randomIds ? UUID.randomUUID() : TimeOrderedIds.at(base.toEpochMilli() + w);
    }
    for (int i = 0; i < count; i++) {
      Instant at = base.plusNanos(i * 1000L);
      UUID id = randomIds ? UUID.randomUUID() : TimeOrderedIds.at(at.toEpochMilli());
      int m = (i / 5 + i / 40) % 6;
      ids[i] = id.toString();
      bodies[i] =
          ("{\"eventId\":\"" + id + "\",\"type\":\"atelier.llm.call.recorded.v1\",\"occurredAt\":\""
                  + at + "\",\"workflowId\":\"" + workflows[i / 40] + "\",\"stepId\":\"step-"
                  + (i / 5) % 8 + "\",\"agent\":\"" + AGENTS[(i / 5) % 8] + "\",\"conversationId\":\"conv-"
                  + i / 5 + "\",\"team\":\"" + team + "\",\"operation\":\"chat\",\"provider\":\""
                  + PROVIDERS[m] + "\",\"requestModel\":\"" + MODELS[m] + "\",\"responseModel\":\""
                  + MODELS[m] + "-2025\",\"status\":\"ok\",\"streamed\":true,\"inputTokens\":"
                  + (100 + i % 900) + ",\"cachedInputTokens\":10,\"outputTokens\":" + (20 + i % 300)
                  + ",\"reasoningTokens\":0,\"usageSource\":\"provider\",\"costUsd\":0.000123456789,"
                  + "\"priceVersion\":\"2025-01\",\"startedAt\":\"" + at.minusMillis(250)
                  + "\",\"latencyMs\":250,\"timeToFirstTokenMs\":80,\"simulated\":"
                  + PROVIDERS[m].equals("simulated")
                  + ",\"traceId\":\"0af7651916cd43dd8448eb211c80319c\",\"spanId\":\"b7ad6b7169203331\"}")
              .getBytes(StandardCharsets.UTF_8);
    }
    ConnectionFactory f = new ConnectionFactory();
    f.setHost("127.0.0.1");
    f.setVirtualHost(vhost);
    try (Connection c = f.newConnection("ledger-bench");
        Channel ch = c.createChannel()) {
      ch.confirmSelect();
      long start = System.nanoTime();
      for (int i = 0; i < count; i++) {
        ch.basicPublish(
            "atelier.llm-calls",
            "llm.call",
            new AMQP.BasicProperties.Builder()
                .contentType("application/json")
                .deliveryMode(2)
                .messageId(ids[i])
                .headers(Map.of("x-atelier-event-type", "atelier.llm.call.recorded.v1"))
                .build(),
            bodies[i]);
        if (i % 5000 == 4999) {
          ch.waitForConfirmsOrDie(60_000);
        }
      }
      ch.waitForConfirmsOrDie(60_000);
      double s = (System.nanoTime() - start) / 1e9;
      System.out.printf("published %d in %.2f s = %.0f records/s%n", count, s, count / s);
    }
  }

}
