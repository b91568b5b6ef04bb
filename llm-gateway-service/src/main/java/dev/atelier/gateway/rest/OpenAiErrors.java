package dev.atelier.gateway.rest;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.atelier.gateway.service.GatewayException;
import io.vertx.core.http.HttpServerResponse;

/** Writes errors in OpenAI's shape, which OpenAI clients parse: never problem+json on /v1. */
final class OpenAiErrors {

  private OpenAiErrors() {}

  static ObjectNode body(GatewayException e) {
    ObjectNode root = JsonNodeFactory.instance.objectNode();
    ObjectNode error = root.putObject("error");
    error.put("message", e.getMessage());
    error.put("type", e.type());
    error.put("param", e.param());
    error.put("code", e.code());
    return root;
  }

  static void write(HttpServerResponse response, GatewayException e) {
    if (response.ended() || response.closed() || response.headWritten()) {
      return;
    }
    response.setStatusCode(e.status());
    response.putHeader("Content-Type", "application/json");
    if (e.retryAfter() != null) {
      response.putHeader("Retry-After", String.valueOf(e.retryAfter().toSeconds()));
    }
    response.end(body(e).toString());
  }
}
