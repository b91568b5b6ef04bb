package dev.atelier.orchestrator.service;

import dev.atelier.orchestrator.model.WorkflowRun;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Workflow and step counters and the workflow duration timer. Callers record only after commit, so
 * a rolled-back transition is never counted.
 */
@ApplicationScoped
public class WorkflowMetrics {

  /** Most distinct error tags on the retry counter; codes beyond them count as {@code other}. */
  static final int MAX_ERROR_TAGS = 64;

  private static final Pattern ERROR_CODE = Pattern.compile("[a-z0-9][a-z0-9_.:-]{0,63}");

  private final MeterRegistry registry;

  /** Error codes seen, each a time series: a worker reports them as free text. */
  private final Set<String> errorTags = ConcurrentHashMap.newKeySet();

  WorkflowMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  public void submitted(String definition) {
    counter("atelier.workflows.submitted", "definition", definition).increment();
  }

  /** A workflow reached a terminal status. */
  public void finished(WorkflowRun workflow) {
    String status = workflow.status().value();
    counter("atelier.workflows." + status, "definition", workflow.definitionName()).increment();
    if (workflow.completedAt() != null) {
      Timer.builder("atelier.workflow.duration")
          .description("Time from submission to a terminal status")
          .tag("definition", workflow.definitionName())
          .tag("status", status)
          .publishPercentileHistogram()
          .register(registry)
          .record(Duration.between(workflow.createdAt(), workflow.completedAt()));
    }
  }

  public void stepCompleted(String role) {
    counter("atelier.steps.completed", "role", role).increment();
  }

  /** A step failed for good (its workflow fails with it). */
  public void stepFailed(String role) {
    counter("atelier.steps.failed", "role", role).increment();
  }

  public void stepRetried(String role, String errorCode) {
    Counter.builder("atelier.steps.retried")
        .tag("role", role)
        .tag("error", errorTag(errorCode))
        .register(registry)
        .increment();
  }

  private String errorTag(String errorCode) {
    if (errorCode == null) {
      return "unknown";
    }
    if (!ERROR_CODE.matcher(errorCode).matches()) {
      return "other";
    }
    if (errorTags.contains(errorCode)) {
      return errorCode;
    }
    // Racing callers may pass the cap by a few: a bound, not an exact count.
    if (errorTags.size() >= MAX_ERROR_TAGS) {
      return "other";
    }
    errorTags.add(errorCode);
    return errorCode;
  }

  public void stepDispatched(String role) {
    counter("atelier.steps.dispatched", "role", role).increment();
  }

  private Counter counter(String name, String tag, String value) {
    return Counter.builder(name).tag(tag, value).register(registry);
  }
}
