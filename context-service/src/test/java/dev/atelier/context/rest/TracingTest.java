package dev.atelier.context.rest;

import static dev.atelier.context.rest.Artifacts.markdown;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

@QuarkusTest
class TracingTest {

  @Inject InMemorySpanExporter spans;

  @Test
  void aWriteJoinsTheCallersTraceWithItsSqlStatementsAsChildSpans() {
    String traceId = UUID.randomUUID().toString().replace("-", "");
    UUID workflow = UUID.randomUUID();

    given()
        .contentType(ContentType.JSON)
        .header("traceparent", "00-" + traceId + "-00f067aa0ba902b7-01")
        .header("Idempotency-Key", "t:1")
        .body(markdown("traced", "x"))
        .when()
        .post(Artifacts.base(workflow))
        .then()
        .statusCode(201);

    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              List<SpanData> trace =
                  spans.getFinishedSpanItems().stream()
                      .filter(s -> s.getTraceId().equals(traceId))
                      .toList();
              assertThat(trace).anySatisfy(s -> assertThat(s.getKind()).isEqualTo(SpanKind.SERVER));
              assertThat(trace)
                  .filteredOn(s -> s.getKind() == SpanKind.CLIENT)
                  .extracting(SpanData::getName)
                  .anySatisfy(name -> assertThat(name).containsIgnoringCase("insert"));
            });
  }
}
