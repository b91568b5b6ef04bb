package dev.atelier.worker.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.request.ResponseFormat;
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
    assertThat(b).isNotEqualTo(a);
    assertThat(second.next(request("gpt-4o", ResponseFormat.JSON, "Design a shop"))).isEqualTo(a);
    assertThat(second.next(request("gpt-4o", ResponseFormat.JSON, "Design a shop", "Repair it")))
        .isEqualTo(b);
  }

  @Test
  void whatACallSendsChangesItsKey() {
    AgentInvoker.CallKeys keys = new AgentInvoker.CallKeys("s:1");
    String base = keys.next(request("gpt-4o", ResponseFormat.JSON, "Design a shop"));

    assertThat(keys.next(request("gpt-4o-mini", ResponseFormat.JSON, "Design a shop")))
        .isNotEqualTo(base);
    assertThat(keys.next(request("gpt-4o", ResponseFormat.TEXT, "Design a shop")))
        .isNotEqualTo(base);
    // Strings are length-prefixed: moving text between messages is another call.
    assertThat(keys.next(request("gpt-4o", ResponseFormat.JSON, "Design a", " shop")))
        .isNotEqualTo(keys.next(request("gpt-4o", ResponseFormat.JSON, "Design a ", "shop")));
    // Another attempt of the step: other keys.
    assertThat(
            new AgentInvoker.CallKeys("s:2")
                .next(request("gpt-4o", ResponseFormat.JSON, "Design a shop")))
        .isNotEqualTo(base);
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
