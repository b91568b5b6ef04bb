package dev.atelier.orchestrator.model;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;

/**
 * A value our own deserializers refuse, with a message written for the API's clients (Jackson's own
 * messages name Java types): a 400 passes it on as it is.
 */
public class ClientWordedException extends InvalidFormatException {

  public ClientWordedException(JsonParser p, String message, Object value, Class<?> targetType) {
    super(p, message, value, targetType);
  }
}
