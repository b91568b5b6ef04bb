package dev.atelier.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.atelier.gateway.Tokens.Message;
import java.math.BigDecimal;
import java.util.List;

/**
 * The chat request the budget tests send (gpt-4o, one user message, a small {@code max_tokens}) and
 * the worst case the gateway reserves for it, computed by the test: the prompt and {@code
 * max_tokens} at gpt-4o's 2.50 in / 10.00 out per 1M tokens.
 */
record BudgetedChat(String prompt, int maxTokens) {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  String body() {
    ObjectNode body = MAPPER.createObjectNode();
    body.put("model", "gpt-4o");
    body.put("max_tokens", maxTokens);
    body.putArray("messages").addObject().put("role", "user").put("content", prompt);
    return body.toString();
  }

  BigDecimal worstCase() {
    long input = Tokens.prompt(List.of(new Message("user", prompt)));
    return Tokens.cost(input, 0, maxTokens, "2.50", "1.25", "10.00");
  }
}
