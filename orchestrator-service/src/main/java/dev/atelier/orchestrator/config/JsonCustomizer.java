package dev.atelier.orchestrator.config;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.jackson.ObjectMapperCustomizer;
import jakarta.inject.Singleton;

/**
 * Money is written as plain decimals: {@code 0.00000015}, never {@code 1.5E-7}. Text holding half a
 * surrogate pair is refused ({@link WholeCharacters}).
 */
@Singleton
public class JsonCustomizer implements ObjectMapperCustomizer {

  @Override
  public void customize(ObjectMapper mapper) {
    mapper.enable(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN);
    mapper.registerModule(new WholeCharacters());
  }
}
