package dev.atelier.tracking.service;

import dev.atelier.kit.problem.ProblemException;
import dev.atelier.tracking.config.TrackingConfig;
import dev.atelier.tracking.model.GroupBy;
import dev.atelier.tracking.model.LlmCallFilter;
import dev.atelier.tracking.model.UsageGroup;
import dev.atelier.tracking.model.UsageReport;
import dev.atelier.tracking.model.WorkflowInfo;
import dev.atelier.tracking.model.WorkflowUsage;
import dev.atelier.tracking.repository.UsageRepository;
import dev.atelier.tracking.repository.UsageRollupRepository.Grain;
import dev.atelier.tracking.repository.WorkflowRepository;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** Token, cost and latency figures computed from the ledger. */
@ApplicationScoped
public class UsageService {

  private final UsageRepository usage;
  private final WorkflowRepository workflows;
  private final TrackingConfig config;
  private final Clock clock = Clock.systemUTC();

  UsageService(UsageRepository usage, WorkflowRepository workflows, TrackingConfig config) {
    this.usage = usage;
    this.workflows = workflows;
    this.config = config;
  }

  /**
   * A workflow's totals, per step and per agent; empty when the ledger knows neither a call nor a
   * status of the workflow.
   */
  public Optional<WorkflowUsage> workflowUsage(UUID workflowId) {
    Optional<WorkflowInfo> info = workflows.find(workflowId);
    // The rollups first: a call stored between the two reads then shows in the raw rows only.
    UsageRepository.WorkflowFigures rolledUp = usage.workflowFromRollups(workflowId);
    UsageRepository.WorkflowFigures figures = usage.workflow(workflowId);
    String source = "raw";
    if (rolledUp.totals().calls() > figures.totals().calls()) {
      // Retention dropped some of its raw calls (written in one transaction with the rollups, the
      // two agree otherwise): the hourly rollup still holds them all, per agent.
      figures = rolledUp;
      source = "rollup-hourly";
    }
    if (info.isEmpty() && figures.totals().calls() == 0) {
      return Optional.empty();
    }
    return Optional.of(
        new WorkflowUsage(
            workflowId,
            info.map(WorkflowInfo::title).orElse(null),
            info.map(WorkflowInfo::definition).orElse(null),
            info.map(WorkflowInfo::team).orElse(null),
            info.map(WorkflowInfo::status).orElse(null),
            source,
            figures.totals(),
            figures.steps(),
            figures.agents()));
  }

  /** Which latency and time-to-first-token percentiles a usage report carries. */
  public enum Percentiles {
    /** None: any rollup whose buckets the range covers exactly can answer. */
    NONE("none"),
    /**
     * From the daily rollup's histograms when they answer the report (within {@link
     * dev.atelier.tracking.repository.LatencySketch#RELATIVE_ERROR}), else exact.
     */
    APPROXIMATE("approximate"),
    /** Interpolated exactly over the raw rows ({@code percentile_cont}). */
    EXACT("exact");

    private final String value;

    Percentiles(String value) {
      this.value = value;
    }

    public String value() {
      return value;
    }
  }

  /**
   * Usage grouped by one dimension. The time range defaults to the configured span ending now. The
   * report comes from the daily rollup when its bounds are whole UTC days, else from the hourly one
   * when they are whole hours (without percentiles only: it keeps no histograms), else from the raw
   * rows (exactness first: a rollup bucket is never split). Approximate percentiles come from the
   * daily rollup only when every row in the range has histograms. A range starting before the raw
   * retention horizon is answered from the rollups, without percentiles where only the raw rows had
   * them, or refused (400 {@code range-before-retention}) when only the raw rows could answer it:
   * some of them are gone.
   *
   * @param limit most groups to return
   * @param percentiles which percentiles are wanted
   */
  public UsageReport report(
      GroupBy groupBy, LlmCallFilter filter, int limit, Percentiles percentiles) {
    Instant to = filter.to() != null ? filter.to() : clock.instant();
    Instant from =
        filter.from() != null ? filter.from() : to.minus(config.query().defaultUsageRange());
    if (from.isAfter(to)) {
      throw ProblemException.badRequest(
          "invalid-range", "from must not be after to (to defaults to now)");
    }
    LlmCallFilter ranged = filter.withTimeRange(from, to);
    // Raw calls before the retention horizon may be gone; the rollups keep everything.
    Instant horizon = clock.instant().minus(config.retention().keep());
    boolean rawComplete = !from.isBefore(horizon);
    Grain grain = percentiles == Percentiles.EXACT ? null : rollupFor(groupBy, ranged);
    List<UsageGroup> groups = null;
    Percentiles served = Percentiles.EXACT;
    if (grain != null) {
      if (percentiles == Percentiles.APPROXIMATE && grain.sketches()) {
        // Empty when rows in the range predate the histograms.
        groups = usage.groupedFromSketches(groupBy, ranged, limit + 1).orElse(null);
        served = Percentiles.APPROXIMATE;
      }
      if (groups == null && (percentiles == Percentiles.NONE || !rawComplete)) {
        // The rollup's sums without percentiles: none were asked for, or only the raw rows had
        // them and retention has dropped some (the response says percentiles: none).
        groups = usage.groupedFromRollups(grain, groupBy, ranged, limit + 1);
        served = Percentiles.NONE;
      }
      grain = groups == null ? null : grain;
    }
    if (groups == null) {
      if (!rawComplete) {
        // From the raw rows, the report would quietly count less than happened.
        throw ProblemException.badRequest(
            "range-before-retention",
            "raw calls older than "
                + config.retention().keep()
                + " (before "
                + horizon.truncatedTo(ChronoUnit.SECONDS)
                + ") are dropped by retention, and only they can answer this report; the rollups"
                + " keep that history: give from and to as whole hours, without exact"
                + " percentiles, a step grouping, or a stepId, conversationId or status filter; or"
                + " start after it");
      }
      // The raw rows always give exact percentiles, even when none were asked for.
      groups = usage.grouped(groupBy, ranged, limit + 1);
      served = Percentiles.EXACT;
    }
    boolean truncated = groups.size() > limit;
    return new UsageReport(
        groupBy.value(),
        from,
        to,
        truncated ? groups.subList(0, limit) : groups,
        truncated,
        grain == null ? "raw" : grain == Grain.DAY ? "rollup-daily" : "rollup-hourly",
        served.value());
  }

  /** The rollup that answers this report exactly, or null when only the raw rows can. */
  static Grain rollupFor(GroupBy groupBy, LlmCallFilter f) {
    if (groupBy == GroupBy.STEP
        || f.stepId() != null
        || f.conversationId() != null
        || f.status() != null) {
      return null;
    }
    boolean perWorkflow = groupBy == GroupBy.WORKFLOW || f.workflowId() != null;
    if (groupBy != GroupBy.HOUR
        && !perWorkflow
        && Grain.DAY.aligned(f.from())
        && Grain.DAY.aligned(f.to())) {
      return Grain.DAY;
    }
    if (Grain.HOUR.aligned(f.from()) && Grain.HOUR.aligned(f.to())) {
      return Grain.HOUR;
    }
    return null;
  }
}
