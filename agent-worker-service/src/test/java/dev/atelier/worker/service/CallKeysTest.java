package dev.atelier.worker.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.request.json.JsonRawSchema;
import dev.langchain4j.model.chat.request.json.JsonSchema;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Idempotency-Keys of a step attempt's LLM calls. */
class CallKeysTest {

  private static ChatRequest request(String model, ResponseFormat format, String... userTexts) {
    var messages = new java.util.ArrayList<dev.langchain4j.data.message.ChatMessage>();
    messages.add(SystemMessage.from("You are an architect."));
    for (String text : userTexts) {
      messages.add(UserMessage.from(text));
      messages.add(AiMessage.from("{}"));
    }
    messages.remove(messages.size() - 1);
    return ChatRequest.builder()
        .messages(List.copyOf(messages))
        .parameters(
            ChatRequestParameters.builder()
                .modelName(model)
                .temperature(0.2)
                .responseFormat(format)
                .build())
        .build();
  }

  @Test
  void twoRunsOfAnAttemptNameTheSameCallsAlike() {
    AgentInvoker.CallKeys first = new AgentInvoker.CallKeys("step-1:2");
    AgentInvoker.CallKeys second = new AgentInvoker.CallKeys("step-1:2");

    String a = first.next(request("gpt-4o", ResponseFormat.JSON, "Design a shop"));
    String b = first.next(request("gpt-4o", ResponseFormat.JSON, "Design a shop", "Repair it"));

    assertThat(a).matches("step-1:2:[0-9a-f]{32}:1");
    assertThat(b).matches("step-1:2:[0-9a-f]{32}:1").isNotEqualTo(a);
    assertThat(second.next(request("gpt-4o", ResponseFormat.JSON, "Design a shop"))).isEqualTo(a);
    assertThat(second.next(request("gpt-4o", ResponseFormat.JSON, "Design a shop", "Repair it")))
        .isEqualTo(b);
  }

  @Test
  void whatACallSendsChangesItsKey() {
    String base = firstKey("s:1", request("gpt-4o", ResponseFormat.JSON, "Design a shop"));

    assertThat(firstKey("s:1", request("gpt-4o", ResponseFormat.JSON, "Design a shop")))
        .isEqualTo(base);
    assertThat(firstKey("s:1", request("gpt-4o-mini", ResponseFormat.JSON, "Design a shop")))
        .isNotEqualTo(base);
    assertThat(firstKey("s:1", request("gpt-4o", ResponseFormat.TEXT, "Design a shop")))
        .isNotEqualTo(base);
    assertThat(firstKey("s:1", request("gpt-4o", schema("{\"type\":\"object\"}"), "Design a shop")))
        .isNotEqualTo(
            firstKey("s:1", request("gpt-4o", schema("{\"type\":\"array\"}"), "Design a shop")));
    // Strings are length-prefixed: moving text between messages is another call.
    assertThat(firstKey("s:1", request("gpt-4o", ResponseFormat.JSON, "Design a", " shop")))
        .isNotEqualTo(firstKey("s:1", request("gpt-4o", ResponseFormat.JSON, "Design a ", "shop")));
    // Another attempt of the step: other keys.
    assertThat(firstKey("s:2", request("gpt-4o", ResponseFormat.JSON, "Design a shop")))
        .isNotEqualTo(base);
  }

  /** The key of {@code request} as the first call of a run of {@code attempt}. */
  private static String firstKey(String attempt, ChatRequest request) {
    return new AgentInvoker.CallKeys(attempt).next(request);
  }

  /** json_schema with the same name and another schema. */
  private static ResponseFormat schema(String json) {
    return ResponseFormat.builder()
        .type(ResponseFormatType.JSON)
        .jsonSchema(
            JsonSchema.builder().name("architecture").rootElement(JsonRawSchema.from(json)).build())
        .build();
  }

  @Test
  void theSameCallTwiceInARunIsTwoCalls() {
    AgentInvoker.CallKeys keys = new AgentInvoker.CallKeys("s:1");
    ChatRequest same = request("gpt-4o", ResponseFormat.JSON, "Design a shop");

    String once = keys.next(same);
    String twice = keys.next(same);

    assertThat(once).endsWith(":1");
    assertThat(twice).endsWith(":2").startsWith(once.substring(0, once.length() - 1));
  }
}
