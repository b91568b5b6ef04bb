package dev.atelier.gateway.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ChatCallTest {

  private static ChatCall call() {
    ChatRequest request =
        ChatRequest.parse(
            ChatRequest.parser(new ObjectMapper()),
            "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"
                .getBytes(StandardCharsets.UTF_8));
    return new ChatCall(request, "team-a", new Attribution(null, null, null, null), null);
  }

  @Test
  void aShortAnswerIsCountedWhole() {
    ChatCall call = call();
    call.output("Hello, ");
    call.output("world");
    assertThat(call.estimatedOutputTokens(text -> text.length())).isEqualTo(12);
    assertThat(call().estimatedOutputTokens(text -> text.length())).isZero();
  }

  @Test
  void anEndlessAnswerKeepsABoundedTextAndIsEstimatedForAllOfIt() {
    // A provider streaming without end (10 MB of text, four characters a token): the gateway
    // keeps 1 MB of it and scales the count for the rest, instead of holding all of it.
    ChatCall call = call();
    String chunk = "abcd".repeat(256);
    for (int i = 0; i < 10 * 1024; i++) {
      call.output(chunk);
    }
    long[] counted = new long[1];
    long tokens =
        call.estimatedOutputTokens(
            text -> {
              counted[0] = text.length();
              return text.length() / 4;
            });
    assertThat(counted[0]).isEqualTo(ChatCall.MAX_KEPT_TEXT);
    assertThat(tokens).isEqualTo(10L * 1024 * 1024 / 4);
  }
}
