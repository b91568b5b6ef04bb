package dev.atelier.orchestrator.repository;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.atelier.contracts.ArtifactRef;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.Map;

/** Reads and writes the jsonb columns with the application's object mapper. */
@ApplicationScoped
public class JsonColumns {

  private static final TypeReference<Map<String, String>> STRING_MAP = new TypeReference<>() {};
  private static final TypeReference<List<ArtifactRef>> REFS = new TypeReference<>() {};

  private final ObjectMapper mapper;

  JsonColumns(ObjectMapper mapper) {
    this.mapper = mapper;
  }

  public String write(Object value) {
    try {
      return mapper.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("cannot write JSON: " + e.getOriginalMessage(), e);
    }
  }

  public <T> T read(String json, Class<T> type) {
    try {
      return mapper.readValue(json, type);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot read stored " + type.getSimpleName(), e);
    }
  }

  public Map<String, String> stringMap(String json) {
    return read(json, STRING_MAP);
  }

  public List<ArtifactRef> refs(String json) {
    return read(json, REFS);
  }

  private <T> T read(String json, TypeReference<T> type) {
    try {
      return json == null ? null : mapper.readValue(json, type);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot read stored JSON", e);
    }
  }
}
