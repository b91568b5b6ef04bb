package dev.atelier.orchestrator.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.KeyDeserializer;
import com.fasterxml.jackson.databind.deser.std.StringDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import dev.atelier.contracts.Utf16;
import dev.atelier.orchestrator.model.ClientWordedException;
import java.io.IOException;

/**
 * Refuses text in a request body that holds half of a UTF-16 surrogate pair ({@code "\ud800"}
 * alone), in values and in names. PostgreSQL cannot store it: the driver quietly writes {@code ?}
 * into a text column, and a stored step request that holds it cannot be read as jsonb when its
 * deadline must be moved. Context-service and the gateway refuse the same text.
 */
final class WholeCharacters extends SimpleModule {

  WholeCharacters() {
    super("whole-characters");
    addDeserializer(
        String.class,
        new StringDeserializer() {
          @Override
          public String deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            return checked(super.deserialize(p, ctxt), p);
          }
        });
    // Names too: a body read from bytes refuses them in its parser already, one converted from a
    // tree (definitions and roles) only here.
    addKeyDeserializer(
        String.class,
        new KeyDeserializer() {
          @Override
          public Object deserializeKey(String key, DeserializationContext ctxt) throws IOException {
            return checked(key, ctxt.getParser());
          }
        });
  }

  static String checked(String text, JsonParser p) throws ClientWordedException {
    int at = text == null ? -1 : Utf16.firstUnpairedSurrogate(text);
    if (at < 0) {
      return text;
    }
    String where =
        "half of a UTF-16 surrogate pair at character " + at + ", which cannot be stored";
    throw new ClientWordedException(p, "text with " + where, where, String.class);
  }
}
