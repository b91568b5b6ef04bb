package dev.atelier.gateway.provider;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One {@code data:} payload of a streamed answer.
 *
 * @param data the payload as received, forwarded unchanged when the gateway need not alter it
 * @param json the same, parsed
 */
public record StreamEvent(String data, JsonNode json) {}
