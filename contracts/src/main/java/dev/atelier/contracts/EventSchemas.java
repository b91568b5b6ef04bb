package dev.atelier.contracts;

import java.util.Map;

/**
 * Where the JSON Schema of each event type lives on the classpath ({@code schemas/*.schema.json},
 * draft 2020-12, {@code $id} under {@link #BASE_URI}). Non-Java consumers can validate against the
 * same files.
 */
public final class EventSchemas {

  public static final String BASE_URI = "https://atelier.dev/schemas/";
  public static final String CLASSPATH_DIR = "schemas/";

  private static final Map<String, String> FILES =
      Map.of(
          StepRequested.TYPE, "step-requested.v1.schema.json",
          StepCompleted.TYPE, "step-completed.v1.schema.json",
          StepFailed.TYPE, "step-failed.v1.schema.json",
          LlmCallRecorded.TYPE, "llm-call-recorded.v1.schema.json",
          WorkflowStatusChanged.TYPE, "workflow-status-changed.v1.schema.json",
          BudgetThresholdCrossed.TYPE, "budget-threshold-crossed.v1.schema.json");

  private EventSchemas() {}

  /** The schema's file name for an event type. */
  public static String fileFor(String type) {
    String file = FILES.get(type);
    if (file == null) {
      throw new IllegalArgumentException("no schema for event type " + type);
    }
    return file;
  }

  public static Map<String, String> all() {
    return FILES;
  }
}
