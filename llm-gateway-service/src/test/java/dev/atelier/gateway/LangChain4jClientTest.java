package dev.atelier.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.kit.amqp.RabbitBroker;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.request.json.JsonArraySchema;
import dev.langchain4j.model.chat.request.json.JsonEnumSchema;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.request.json.JsonSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URL;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** An unmodified OpenAI client (langchain4j's, which quarkus-langchain4j-openai uses) works. */
@QuarkusTest
class LangChain4jClientTest {

  @TestHTTPResource("/v1")
  URL v1;

  @Inject RabbitBroker broker;
  @Inject ObjectMapper mapper;

  private Map<String, String> attribution(UUID workflowId) {
    return Map.of("X-Atelier-Workflow-Id", workflowId.toString(), "X-Atelier-Agent", "reviewer");
  }

  @Test
  void structuredOutputThroughTheOpenAiClient() throws Exception {
    RecordedCalls records = new RecordedCalls(broker);
    records.prepare();
    UUID workflowId = UUID.randomUUID();
    OpenAiChatModel model =
        OpenAiChatModel.builder()
            .baseUrl(v1.toString())
            .apiKey("atelier-local-key")
            .modelName("gpt-4.1-mini")
            .strictJsonSchema(true)
            .customHeaders(attribution(workflowId))
            .timeout(Duration.ofSeconds(20))
            .build();
    JsonSchema schema =
        JsonSchema.builder()
            .name("review")
            .rootElement(
                JsonObjectSchema.builder()
                    .addProperty(
                        "verdict",
                        JsonEnumSchema.builder()
                            .enumValues("approved", "changes_requested")
                            .build())
                    .addProperty(
                        "comments",
                        JsonArraySchema.builder()
                            .items(
                                JsonObjectSchema.builder()
                                    .addStringProperty("text")
                                    .required("text")
                                    .build())
                            .build())
                    .required("verdict", "comments")
                    .build())
            .build();

    ChatResponse response =
        model.chat(
            ChatRequest.builder()
                .messages(UserMessage.from("Review the parcel tracking change"))
                .responseFormat(
                    ResponseFormat.builder()
                        .type(ResponseFormatType.JSON)
                        .jsonSchema(schema)
                        .build())
                .build());

    JsonNode answer = mapper.readTree(response.aiMessage().text());
    assertThat(answer.path("verdict").asText()).isEqualTo("approved");
    assertThat(answer.path("comments").isArray()).isTrue();
    assertThat(response.tokenUsage().inputTokenCount()).isPositive();
    await()
        .atMost(Duration.ofSeconds(15))
        .untilAsserted(() -> assertThat(records.forWorkflow(workflowId)).hasSize(1));
    LlmCallRecorded record = records.forWorkflow(workflowId).get(0);
    assertThat(record.agent()).isEqualTo("reviewer");
    assertThat(record.inputTokens()).isEqualTo(response.tokenUsage().inputTokenCount().longValue());
    assertThat(record.outputTokens())
        .isEqualTo(response.tokenUsage().outputTokenCount().longValue());
  }

  @Test
  void streamingThroughTheOpenAiClient() throws Exception {
    OpenAiStreamingChatModel model =
        OpenAiStreamingChatModel.builder()
            .baseUrl(v1.toString())
            .apiKey("atelier-local-key")
            .modelName("gpt-4o")
            .timeout(Duration.ofSeconds(20))
            .build();
    StringBuilder partial = new StringBuilder();
    CompletableFuture<ChatResponse> done = new CompletableFuture<>();
    model.chat(
        List.of(UserMessage.from("Summarise the delivery address change flow")),
        new StreamingChatResponseHandler() {
          @Override
          public void onPartialResponse(String text) {
            partial.append(text);
          }

          @Override
          public void onCompleteResponse(ChatResponse response) {
            done.complete(response);
          }

          @Override
          public void onError(Throwable error) {
            done.completeExceptionally(error);
          }
        });
    ChatResponse response = done.get(20, TimeUnit.SECONDS);
    assertThat(partial.toString()).isNotBlank().isEqualTo(response.aiMessage().text());
    assertThat(response.tokenUsage()).isNotNull();
    assertThat(response.tokenUsage().outputTokenCount())
        .isEqualTo((int) Tokens.text(partial.toString()));
  }
}
