package dev.atelier.context.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * One byte form per JSON value: compact, object keys sorted. Sizes, content hashes and request
 * hashes are taken over it, so two writes that differ only in key order or whitespace are the same
 * write.
 */
@ApplicationScoped
public class CanonicalJson {

  private final ObjectWriter writer;

  CanonicalJson(ObjectMapper mapper) {
    this.writer = mapper.writer().with(JsonNodeFeature.WRITE_PROPERTIES_SORTED);
  }

  public byte[] bytes(JsonNode value) {
    try {
      return writer.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      // A JsonNode tree always serialises; this would be a bug, not bad input.
      throw new IllegalStateException("cannot serialise a JSON tree", e);
    }
  }

  public static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM provides SHA-256", e);
    }
  }
}
