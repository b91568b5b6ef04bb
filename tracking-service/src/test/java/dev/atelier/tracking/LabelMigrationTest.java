package dev.atelier.tracking;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * V5 (and V7) convert a ledger that holds text into label ids without losing or changing a value:
 * rows written under V4 read back the same (through the labels) after V5, in their partitions. Runs
 * the service's own migrations against a scratch database of its own.
 */
class LabelMigrationTest {

  private static final String DB = "atelier_tracking_migration_test";
  private static final String SERVER = "jdbc:postgresql://127.0.0.1:5432/";

  @BeforeEach
  void createDatabase() throws Exception {
    try (Connection c = DriverManager.getConnection(SERVER + "postgres", "postgres", "");
        Statement st = c.createStatement()) {
      st.execute("drop database if exists " + DB + " with (force)");
      st.execute("create database " + DB);
    }
  }

  @AfterEach
  void dropDatabase() throws Exception {
    try (Connection c = DriverManager.getConnection(SERVER + "postgres", "postgres", "");
        Statement st = c.createStatement()) {
      st.execute("drop database if exists " + DB + " with (force)");
    }
  }

  @Test
  void existingTextRowsBecomeLabelIdsAndReadBackUnchanged() throws Exception {
    migrate("4");
    String before;
    try (Connection c = connect();
        Statement st = c.createStatement()) {
      st.execute(
          "create table llm_call_p2025_03 partition of llm_call"
              + " for values from ('2025-03-01 00:00:00+00') to ('2025-04-01 00:00:00+00')");
      st.execute(
          """
          insert into llm_call (event_id, occurred_at, event_type, workflow_id, step_id, agent,
              conversation_id, team, operation, provider, request_model, response_model, status,
              error_code, streamed, input_tokens, cached_input_tokens, output_tokens,
              reasoning_tokens, usage_source, cost_usd, price_version, started_at, latency_ms,
              time_to_first_token_ms, simulated, trace_id, span_id, fallback_path)
          values
          ('00000000-0000-0000-0000-000000000001', '2025-03-10 10:00:00+00',
           'atelier.llm.call.recorded.v1', '00000000-0000-0000-0000-0000000000aa', 'analyse',
           'business-analyst', 'conv-1', 'team-a', 'chat', 'openai', 'gpt-4o', 'gpt-4o-2024',
           'ok', null, true, 100, 10, 50, 0, 'provider', 0.000123456789012345, '2025-01',
           '2025-03-10 09:59:59+00', 1000, 200, false, 'abc', 'def', 'openai/gpt-4o>x/y'),
          ('00000000-0000-0000-0000-000000000002', '2025-03-10 10:00:01+00',
           'atelier.llm.call.recorded.v1', null, null, null, null, null, 'embeddings',
           'simulated', 'gpt-4o', null, 'error', 'upstream_timeout', false, 0, 0, 0, 0,
           null, null, null, null, 5, null, true, null, null, null),
          ('00000000-0000-0000-0000-000000000003', '2031-01-01 00:00:00+00',
           'atelier.llm.call.recorded.v1', null, 'analyse', 'team-a', null, 'analyse', 'chat',
           'openai', 'gpt-4o', 'gpt-4o', 'ok', null, false, 1, 2, 3, 4, 'estimated', 0, null,
           null, 7, null, false, null, null, null)
          """);
      before = readBack(c, false);
    }

    migrate(null);

    try (Connection c = connect();
        Statement st = c.createStatement()) {
      assertThat(readBack(c, true)).isEqualTo(before);
      try (ResultSet rs =
          st.executeQuery("select tableoid::regclass::text from llm_call order by event_id")) {
        List<String> partitions = new ArrayList<>();
        while (rs.next()) {
          partitions.add(rs.getString(1));
        }
        assertThat(partitions)
            .containsExactly("llm_call_p2025_03", "llm_call_p2025_03", "llm_call_default");
      }
      // Each distinct string once, whichever columns shared it ("analyse", "team-a", "gpt-4o").
      try (ResultSet rs = st.executeQuery("select count(*), count(distinct value) from label")) {
        rs.next();
        assertThat(rs.getLong(1)).isEqualTo(rs.getLong(2)).isEqualTo(15);
      }
    }
  }

  /** Every row as text, the same query before (text columns) and after (through the labels). */
  private static String readBack(Connection c, boolean labelled) throws Exception {
    String[] labels = {
      "event_type",
      "agent",
      "team",
      "operation",
      "provider",
      "request_model",
      "response_model",
      "error_code",
      "usage_source",
      "price_version",
      "fallback_path"
    };
    // step_id was a label in V5 and is text again since V7.
    StringBuilder select = new StringBuilder("select event_id, occurred_at, workflow_id, step_id");
    for (String l : labels) {
      select.append(", ").append(labelled ? "(select value from label where id = " + l + ")" : l);
    }
    select.append(labelled ? ", case when failed then 'error' else 'ok' end" : ", status");
    select.append(
        ", conversation_id, streamed, input_tokens::bigint, cached_input_tokens::bigint,"
            + " output_tokens::bigint, reasoning_tokens::bigint, cost_usd, started_at,"
            + " latency_ms::bigint, time_to_first_token_ms::bigint, simulated, trace_id, span_id,"
            + " recorded_at from llm_call order by event_id");
    StringBuilder out = new StringBuilder();
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(select.toString())) {
      int n = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        for (int i = 1; i <= n; i++) {
          out.append(rs.getString(i)).append('|');
        }
        out.append('\n');
      }
    }
    assertThat(out.toString().lines()).hasSize(3);
    return out.toString();
  }

  private static void migrate(String target) {
    var config =
        Flyway.configure()
            .dataSource(SERVER + DB, "postgres", "")
            .locations("classpath:db/migration");
    if (target != null) {
      config.target(target);
    }
    config.load().migrate();
  }

  private static Connection connect() throws Exception {
    return DriverManager.getConnection(SERVER + DB, "postgres", "");
  }
}
