import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/**
 * Benchmark load: publishes N LlmCallRecorded events (team = the given marker) to atelier.llm-calls
 * as fast as publisher confirms allow, like the gateway does, and prints the publish rate.
 * Run: java -cp amqp-client.jar:slf4j-api.jar PublishCalls.java <vhost> <count> <team>
 */
public class PublishCalls {
  public static void main(String[] args) throws Exception {
    String vhost = args[0];
    int count = Integer.parseInt(args[1]);
    String team = args[2];
    ConnectionFactory f = new ConnectionFactory();
    f.setHost("127.0.0.1");
    f.setVirtualHost(vhost);
    try (Connection c = f.newConnection("ledger-bench");
        Channel ch = c.createChannel()) {
      ch.confirmSelect();
      long start = System.nanoTime();
      for (int i = 0; i < count; i++) {
        UUID id = UUID.randomUUID();
        Instant now = Instant.now();
        String body =
            "{\"eventId\":\"" + id + "\",\"type\":\"atelier.llm.call.recorded.v1\",\"occurredAt\":\""
                + now + "\",\"workflowId\":\"" + new UUID(0x1234, i / 40) + "\",\"stepId\":\"step-"
                + (i / 5) % 8 + "\",\"agent\":\"agent-" + (i / 5) % 8 + "\",\"conversationId\":\"conv-"
                + i / 5 + "\",\"team\":\"" + team + "\",\"operation\":\"chat\",\"provider\":\"simulated\","
                + "\"requestModel\":\"gpt-4o-mini\",\"responseModel\":\"gpt-4o-mini-2024-07-18\","
                + "\"status\":\"ok\",\"streamed\":true,\"inputTokens\":" + (100 + i % 900)
                + ",\"cachedInputTokens\":10,\"outputTokens\":" + (20 + i % 300)
                + ",\"reasoningTokens\":0,\"usageSource\":\"provider\",\"costUsd\":0.000123456789,"
                + "\"priceVersion\":\"2025-01\",\"startedAt\":\"" + now.minusMillis(250)
                + "\",\"latencyMs\":250,\"timeToFirstTokenMs\":80,\"simulated\":true,"
                + "\"traceId\":\"0af7651916cd43dd8448eb211c80319c\"}";
        ch.basicPublish(
            "atelier.llm-calls",
            "llm.call",
            new AMQP.BasicProperties.Builder()
                .contentType("application/json")
                .deliveryMode(2)
                .messageId(id.toString())
                .headers(Map.of("x-atelier-event-type", "atelier.llm.call.recorded.v1"))
                .build(),
            body.getBytes(StandardCharsets.UTF_8));
        if (i % 2000 == 1999) {
          ch.waitForConfirmsOrDie(30_000);
        }
      }
      ch.waitForConfirmsOrDie(30_000);
      double s = (System.nanoTime() - start) / 1e9;
      System.out.printf("published %d in %.2f s = %.0f records/s%n", count, s, count / s);
    }
  }
}
