package dev.atelier.context.config;

import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import io.quarkus.jackson.ObjectMapperCustomizer;
import jakarta.inject.Singleton;

/**
 * Artifact content is arbitrary JSON held as {@code JsonNode}. By default Jackson reads decimals
 * into doubles (losing digits past ~17) and strips trailing zeros; PostgreSQL's jsonb keeps numbers
 * exactly, so the service must not alter them on the way in or out, nor write them in a form jsonb
 * does not. Only JsonNode reading is affected; typed records keep their usual mapping.
 */
@Singleton
public class JacksonConfig implements ObjectMapperCustomizer {

  /** Most JSON tokens one document (a request body, a stored artifact) may hold. */
  public static final long MAX_TOKENS = 1_000_000;

  @Override
  public void customize(ObjectMapper mapper) {
    mapper.configure(JsonNodeFeature.USE_BIG_DECIMAL_FOR_FLOATS, true);
    mapper.configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false);
    // A decimal is written as jsonb prints it (1e5 as 100000, 1E-7 as 0.0000001), so sizes and
    // hashes taken at writing match the content read back.
    mapper
        .getFactory()
        .configure(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN.mappedFeature(), true);
    // A body is parsed into a tree before any size check, and an empty object in a tree takes
    // about 80 bytes: 16 MB of "{}," would take ~450 MB of a ~150 MB heap. At most this many JSON
    // tokens per document (values, keys, brackets) bounds a tree to a few tens of MB. A stored
    // artifact (at most 1 MiB, so at most ~0.5 M tokens) is always read back.
    mapper
        .getFactory()
        .setStreamReadConstraints(
            mapper
                .getFactory()
                .streamReadConstraints()
                .rebuild()
                .maxTokenCount(MAX_TOKENS)
                .build());
  }
}
