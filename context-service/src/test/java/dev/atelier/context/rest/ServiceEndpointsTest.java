package dev.atelier.context.rest;

import static dev.atelier.context.rest.Artifacts.get;
import static dev.atelier.context.rest.Artifacts.markdown;
import static dev.atelier.context.rest.Artifacts.post;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The operational endpoints every Atelier service exposes. */
@QuarkusTest
class ServiceEndpointsTest {

  @Test
  void readinessIsUpAndChecksTheDatabase() {
    Response ready = get("/q/health/ready");
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.jsonPath().getString("status")).isEqualTo("UP");
    assertThat(ready.asString()).contains("Database connections health check");
  }

  @Test
  void openApiDocumentsEveryArtifactEndpoint() {
    Response api = get("/q/openapi?format=json");
    assertThat(api.statusCode()).isEqualTo(200);
    assertThat(api.jsonPath().getMap("paths"))
        .containsKeys(
            "/api/v1/workflows/{workflowId}/artifacts",
            "/api/v1/workflows/{workflowId}/artifacts/{name}",
            "/api/v1/workflows/{workflowId}/artifacts/{name}/versions",
            "/api/v1/workflows/{workflowId}/artifacts/{name}/versions/{version}",
            "/api/v1/workflows/{workflowId}/artifact-reads",
            "/api/v1/workflows/{workflowId}/artifact-writes");
    assertThat(api.asString()).contains("Idempotency-Key").contains("application/problem+json");
    assertThat(api.jsonPath().getString("components.schemas.ArtifactVersion.properties.ref.type"))
        .isEqualTo("string");
    assertThat(api.jsonPath().getList("components.schemas.NewArtifact.required"))
        .contains("name", "kind", "content");
    assertThat(api.jsonPath().getList("components.schemas.ArtifactKind.enum"))
        .containsExactly("json", "markdown", "text");
  }

  @Test
  void writesAreCountedInPrometheusMetrics() {
    assertThat(post(UUID.randomUUID(), "m:1", markdown("doc", "x")).statusCode()).isEqualTo(201);
    Response metrics = get("/q/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.asString())
        .containsPattern(
            "atelier_context_artifact_writes_total\\{[^}]*outcome=\"created\"[^}]*} [1-9]");
  }
}
