package dev.atelier.gateway.service;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;

/**
 * Reads a request body into a JSON tree, at most a number of JSON tokens (values, keys and
 * brackets). A body is a tree before anything in it is checked, and an empty object in a tree takes
 * about 80 bytes: without a bound, the 4 MiB a body may hold of {@code {},} would be ~110 MB of
 * heap per request.
 */
public final class BoundedJson {

  private final ObjectMapper mapper;

  /** A reader of {@code mapper}'s settings that stops at {@code maxTokens} JSON tokens. */
  public BoundedJson(ObjectMapper mapper, long maxTokens) {
    JsonFactory factory = mapper.getFactory().copy();
    factory.setStreamReadConstraints(
        factory.streamReadConstraints().rebuild().maxTokenCount(maxTokens).build());
    this.mapper = mapper.copyWith(factory);
  }

  /**
   * The body's JSON object.
   *
   * @throws GatewayException 400 {@code invalid_json} when it is not JSON, not an object, or holds
   *     more tokens (or nests deeper) than allowed
   */
  public ObjectNode readObject(byte[] json) {
    JsonNode tree;
    try {
      tree = mapper.readTree(json);
    } catch (StreamConstraintsException e) {
      throw GatewayException.invalid(
          "invalid_json",
          null,
          "The request body is too complex to read: at most "
              + mapper.getFactory().streamReadConstraints().getMaxTokenCount()
              + " JSON tokens (values, keys and brackets), nested at most "
              + mapper.getFactory().streamReadConstraints().getMaxNestingDepth()
              + " deep, numbers and names of bounded length ("
              // Jackson's message names its own setting: "..., from `StreamReadConstraints...`".
              + String.valueOf(e.getOriginalMessage()).replaceAll(", from `[^`]*`", "")
              + ")");
    } catch (JsonProcessingException e) {
      throw GatewayException.invalid(
          "invalid_json",
          null,
          "We could not parse the JSON body of your request: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw GatewayException.invalid("invalid_json", null, "The request body could not be read");
    }
    if (tree == null || !tree.isObject()) {
      throw GatewayException.invalid(
          "invalid_json", null, "The request body must be a JSON object");
    }
    return (ObjectNode) tree;
  }
}
