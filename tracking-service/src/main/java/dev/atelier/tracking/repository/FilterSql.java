package dev.atelier.tracking.repository;

import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.tracking.model.LlmCallFilter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A {@code where} clause for an {@link LlmCallFilter}, with its parameters. Only values are bound;
 * the SQL text is fixed, so no input reaches it.
 */
final class FilterSql {

  /** The expression {@code model} filters and groups on (label ids); the same as the index's. */
  static final String MODEL = "coalesce(response_model, request_model)";

  private final List<String> conditions = new ArrayList<>();
  private final List<Object> params = new ArrayList<>();

  private FilterSql() {}

  /**
   * The filter on the ledger table, whose text dimensions hold {@link LabelDictionary} ids: a value
   * is looked up (never created), and a value the dictionary does not know matches no row.
   */
  static FilterSql of(LlmCallFilter f, LabelDictionary labels) {
    FilterSql sql = new FilterSql();
    sql.equal("workflow_id", f.workflowId());
    sql.equal("step_id", f.stepId());
    sql.label("agent", f.agent(), labels);
    sql.equal("conversation_id", f.conversationId());
    sql.label("team", f.team(), labels);
    sql.label("provider", f.provider(), labels);
    sql.label(MODEL, f.model(), labels);
    if (f.status() != null) {
      sql.add("failed = ?", LlmCallRecorded.STATUS_ERROR.equals(f.status()));
    }
    if (f.from() != null) {
      sql.add("occurred_at >= ?", f.from());
    }
    if (f.to() != null) {
      sql.add("occurred_at < ?", f.to());
    }
    return sql;
  }

  /**
   * The same filter on a rollup table, whose rows are keyed by {@code bucket} and {@code model}.
   */
  static FilterSql ofRollup(LlmCallFilter f) {
    if (f.stepId() != null || f.conversationId() != null || f.status() != null) {
      throw new IllegalArgumentException("the rollups have no step, conversation or status");
    }
    FilterSql sql = new FilterSql();
    sql.equal("workflow_id", f.workflowId());
    sql.equal("agent", f.agent());
    sql.equal("team", f.team());
    sql.equal("provider", f.provider());
    sql.equal("model", f.model());
    if (f.from() != null) {
      sql.add("bucket >= ?", f.from());
    }
    if (f.to() != null) {
      sql.add("bucket < ?", f.to());
    }
    return sql;
  }

  FilterSql add(String condition, Object... values) {
    conditions.add(condition);
    params.addAll(List.of(values));
    return this;
  }

  private void label(String column, String value, LabelDictionary labels) {
    if (value != null) {
      Optional<Integer> id = labels.find(value);
      if (id.isPresent()) {
        add(column + " = ?", id.get());
      } else {
        add("false");
      }
    }
  }

  private void equal(String column, Object value) {
    if (value != null) {
      add(column + " = ?", value);
    }
  }

  /** {@code where ...}, or an empty string when nothing is filtered. */
  String where() {
    return conditions.isEmpty() ? "" : " where " + String.join(" and ", conditions);
  }

  List<Object> params() {
    return params;
  }
}
