package dev.atelier.tracking.config;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.jackson.ObjectMapperCustomizer;
import jakarta.inject.Singleton;

/**
 * Money leaves the API as exact decimal numbers. Costs are stripped of trailing zeros (the column
 * has scale 10), and plain notation keeps {@code 100} from being written as {@code 1E+2}.
 */
@Singleton
public class JacksonCustomizer implements ObjectMapperCustomizer {

  @Override
  public void customize(ObjectMapper mapper) {
    mapper.enable(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN);
  }
}
