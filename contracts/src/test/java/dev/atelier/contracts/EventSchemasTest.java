package dev.atelier.contracts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The published JSON Schemas describe exactly what the codec writes. */
class EventSchemasTest {

  private static final JsonSchemaFactory FACTORY =
      JsonSchemaFactory.getInstance(
          SpecVersion.VersionFlag.V202012,
          b ->
              b.schemaMappers(
                  m ->
                      m.mapPrefix(
                          EventSchemas.BASE_URI, "classpath:" + EventSchemas.CLASSPATH_DIR)));

  static Iterable<AtelierEvent> events() {
    return Samples.all();
  }

  @ParameterizedTest
  @MethodSource("events")
  void everyEventConformsToItsSchema(AtelierEvent event) throws Exception {
    JsonNode json = EventCodec.mapper().readTree(EventCodec.write(event));

    assertThat(validate(event.type(), json)).isEmpty();
  }

  @Test
  void schemasRejectWhatTheCodecWouldNeverWrite() throws Exception {
    ObjectNode json =
        (ObjectNode) EventCodec.mapper().readTree(EventCodec.write(Samples.stepFailed()));
    json.remove("retryable");
    json.put("errorCode", "Not A Code");
    json.put("attempt", 0);

    assertThat(validate(StepFailed.TYPE, json))
        .extracting(ValidationMessage::getMessage)
        .anyMatch(m -> m.contains("retryable"))
        .anyMatch(m -> m.contains("errorCode"))
        .anyMatch(m -> m.contains("attempt"));
  }

  @Test
  void everyEventTypeHasASchemaOnTheClasspath() {
    assertThat(EventSchemas.all()).hasSize(6);
    EventSchemas.all()
        .values()
        .forEach(
            file ->
                assertThat(
                        getClass().getClassLoader().getResource(EventSchemas.CLASSPATH_DIR + file))
                    .as(file)
                    .isNotNull());
  }

  private static Set<ValidationMessage> validate(String type, JsonNode json) {
    SchemaValidatorsConfig config =
        SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build();
    JsonSchema schema =
        FACTORY.getSchema(
            SchemaLocation.of(EventSchemas.BASE_URI + EventSchemas.fileFor(type)), config);
    return schema.validate(json);
  }
}
