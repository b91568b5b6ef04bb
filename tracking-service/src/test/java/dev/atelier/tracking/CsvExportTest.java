package dev.atelier.tracking;

import static dev.atelier.tracking.CallBuilder.call;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;

import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.kit.amqp.EventPublisher;
import dev.atelier.tracking.service.ExportSlots;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/** CSV export of the call list and of usage reports. */
@QuarkusTest
class CsvExportTest {

  @Inject EventPublisher publisher;
  @Inject DataSource dataSource;
  @Inject MeterRegistry registry;
  @Inject ExportSlots exports;

  @Test
  void callsAndUsageExportAsEscapedCsvWithExactCosts() {
    Ledger ledger = new Ledger(publisher, dataSource, registry);
    String team = "team-csv-" + UUID.randomUUID();
    Instant now = Instant.now();
    UUID workflowId = UUID.randomUUID();
    LlmCallRecorded tricky =
        call()
            .workflow(workflowId)
            .team(team)
            .step("say \"hi\", then\nleave", "dev, \"senior\"")
            .cost("0.000000000000000123")
            .fallback("openai/gpt-4o>simulated/gpt-4o")
            .at(now.minusSeconds(1))
            .build();
    LlmCallRecorded unpriced =
        call().workflow(workflowId).team(team).cost(null).at(now.minusSeconds(2)).build();
    LlmCallRecorded plain =
        call().workflow(workflowId).team(team).cost("12.5").at(now.minusSeconds(3)).build();
    ledger.publish(List.of(tricky, unpriced, plain));
    ledger.awaitRows(List.of(tricky.eventId(), unpriced.eventId(), plain.eventId()));

    String byHeader =
        given()
            .accept("text/csv")
            .get("/api/v1/llm-calls?team=" + team)
            .then()
            .statusCode(200)
            .contentType(startsWith("text/csv"))
            .extract()
            .asString();
    String byParameter =
        given()
            .get("/api/v1/llm-calls?format=csv&team=" + team)
            .then()
            .statusCode(200)
            .contentType(startsWith("text/csv"))
            .extract()
            .asString();
    assertThat(byParameter).isEqualTo(byHeader);

    List<List<String>> rows = parse(byHeader);
    List<String> header = rows.get(0);
    assertThat(rows).hasSize(4);
    int id = header.indexOf("id");
    int step = header.indexOf("stepId");
    int agent = header.indexOf("agent");
    int cost = header.indexOf("costUsd");
    assertThat(rows.get(1).get(id)).isEqualTo(tricky.eventId().toString());
    assertThat(rows.get(1).get(step)).isEqualTo("say \"hi\", then\nleave");
    assertThat(rows.get(1).get(agent)).isEqualTo("dev, \"senior\"");
    assertThat(rows.get(1).get(cost)).isEqualTo("0.000000000000000123");
    assertThat(rows.get(1).get(header.indexOf("spanId"))).isEqualTo("b7ad6b7169203331");
    assertThat(rows.get(1).get(header.indexOf("fallbackPath")))
        .isEqualTo("openai/gpt-4o>simulated/gpt-4o");
    assertThat(rows.get(2).get(header.indexOf("fallbackPath"))).isEmpty();
    assertThat(rows.get(2).get(id)).isEqualTo(unpriced.eventId().toString());
    assertThat(rows.get(2).get(cost)).isEmpty();
    assertThat(rows.get(3).get(cost)).isEqualTo("12.5");
    assertThat(rows).allSatisfy(r -> assertThat(r).hasSize(header.size()));

    String usage =
        given()
            .get(
                "/api/v1/usage?groupBy=team&format=csv&team="
                    + team
                    + "&from="
                    + now.minusSeconds(60))
            .then()
            .statusCode(200)
            .contentType(startsWith("text/csv"))
            .extract()
            .asString();
    List<List<String>> groups = parse(usage);
    assertThat(groups).hasSize(2);
    assertThat(groups.get(0).get(0)).isEqualTo("team");
    List<String> g = groups.get(1);
    assertThat(g.get(0)).isEqualTo(team);
    assertThat(g.get(groups.get(0).indexOf("calls"))).isEqualTo("3");
    assertThat(g.get(groups.get(0).indexOf("costUsd"))).isEqualTo("12.500000000000000123");
    assertThat(g.get(groups.get(0).indexOf("unknownCostCalls"))).isEqualTo("1");

    List<List<String>> workflow =
        parse(
            given()
                .accept("text/csv")
                .get("/api/v1/workflows/" + workflowId + "/usage")
                .then()
                .statusCode(200)
                .contentType(startsWith("text/csv"))
                .extract()
                .asString());
    List<String> columns = workflow.get(0);
    // Header, total, two steps, two agents.
    assertThat(workflow).hasSize(6);
    assertThat(workflow.stream().skip(1).map(r -> r.get(0)))
        .containsExactly("total", "step", "step", "agent", "agent");
    assertThat(workflow.get(1).get(columns.indexOf("calls"))).isEqualTo("3");
    assertThat(workflow.get(1).get(columns.indexOf("costUsd"))).isEqualTo("12.500000000000000123");
    assertThat(workflow.get(2).get(columns.indexOf("agent"))).isEqualTo("business-analyst");
    assertThat(workflow.get(3).get(columns.indexOf("stepId"))).isEqualTo("say \"hi\", then\nleave");
    assertThat(workflow.get(3).get(columns.indexOf("costUsd"))).isEqualTo("0.000000000000000123");
  }

  @Test
  void badExportRequestsAreProblems() {
    given()
        .get("/api/v1/llm-calls?format=xml")
        .then()
        .statusCode(400)
        .contentType("application/problem+json")
        .body("detail", containsString("format must be csv or json"));
    given()
        .accept("text/csv")
        .get("/api/v1/llm-calls?from=yesterday")
        .then()
        .statusCode(400)
        .contentType("application/problem+json");
    // Paging belongs to the JSON list: ignored, limit=10 would have exported the whole ledger.
    for (String paging : List.of("limit=10", "cursor=abc", "limit=abc")) {
      given()
          .accept("text/csv")
          .get("/api/v1/llm-calls?" + paging)
          .then()
          .statusCode(400)
          .contentType("application/problem+json")
          .body("detail", containsString("takes no limit or cursor"));
    }
    given()
        .get("/api/v1/usage?format=csv&groupBy=colour")
        .then()
        .statusCode(400)
        .contentType("application/problem+json")
        .body("detail", containsString("groupBy must be one of"));
  }

  @Test
  void exportsBeyondTheConcurrencyAre503AndEachGivesItsSlotBack() {
    // The two slots (TRACKING_EXPORT_CONCURRENCY's default) held as by two slow downloads.
    ExportSlots.Slot first = exports.take();
    ExportSlots.Slot second = exports.take();
    try {
      given()
          .accept("text/csv")
          .get("/api/v1/llm-calls?team=nobody")
          .then()
          .statusCode(503)
          .contentType("application/problem+json")
          .header("Retry-After", "5")
          .body("type", equalTo("https://atelier.dev/problems/export-busy"));
      // The JSON list is not an export.
      given().get("/api/v1/llm-calls?team=nobody").then().statusCode(200);
    } finally {
      first.close();
      second.close();
    }
    // Three exports one after another: each gave its slot back when it ended.
    for (int i = 0; i < 3; i++) {
      given().accept("text/csv").get("/api/v1/llm-calls?team=nobody").then().statusCode(200);
    }
    // Both slots free again: taken together before either is given back.
    ExportSlots.Slot a = exports.take();
    ExportSlots.Slot b = exports.take();
    a.close();
    b.close();
  }

  /** An independent RFC 4180 reader: quoted fields, doubled quotes, CRLF record ends. */
  private static List<List<String>> parse(String text) {
    List<List<String>> rows = new ArrayList<>();
    List<String> row = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quoted) {
        if (c == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
          field.append('"');
          i++;
        } else if (c == '"') {
          quoted = false;
        } else {
          field.append(c);
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        row.add(field.toString());
        field.setLength(0);
      } else if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
        row.add(field.toString());
        field.setLength(0);
        rows.add(row);
        row = new ArrayList<>();
        i++;
      } else {
        field.append(c);
      }
    }
    assertThat(field).as("text after the last record").isEmpty();
    return rows;
  }
}
