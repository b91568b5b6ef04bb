package dev.atelier.worker.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What a worker replica serves and how hard it works. Every value can be set from the environment,
 * e.g. {@code WORKER_ROLES=developer,tester}.
 */
@ConfigMapping(prefix = "worker")
public interface WorkerConfig {

  /** The roles whose step queues this replica consumes. */
  @WithDefault("business-analyst,architect,developer,tester,reviewer,technical-writer")
  List<String> roles();

  /**
   * Unacknowledged step requests a consumer channel may hold. 1: a channel runs one step at a time,
   * so more would only wait behind it, unseen by other replicas and by queue-depth autoscaling (and
   * measured 5 % slower at zero LLM latency, docs/benchmarks/end-to-end.md).
   */
  @WithDefault("1")
  int prefetch();

  /** Consumer channels per role queue, i.e. steps of one role run in parallel. */
  @WithDefault("4")
  int concurrency();

  /**
   * Upper bound on the characters of all input artifacts put into one prompt; the longest inputs
   * are cut first (see README, "Context limit").
   */
  @WithDefault("200000")
  int maxInputChars();

  /** How many times an answer that is not valid JSON for the output schema is re-asked. */
  @WithDefault("2")
  int repairAttempts();

  /**
   * How many workflows that ended without completing a replica remembers, so that their steps still
   * queued are not run (see {@code EndedWorkflows}); about 150 bytes each.
   */
  @WithDefault("20000")
  int endedWorkflows();

  /**
   * How long a step attempt's lease lasts unless renewed (every third of it while the step runs;
   * see {@code StepClaims}): the time a second delivery of the attempt waits after a worker died
   * holding it. From 3 s to 10 min.
   */
  @WithDefault("15s")
  java.time.Duration claimLease();

  /**
   * Models asked for {@code response_format} {@code json_object} with the output schema in the
   * prompt instead of {@code json_schema}, because they or their provider do not take the latter.
   * Models that answer a {@code json_schema} request with a 400 naming {@code response_format} are
   * added to this set at run time; list them here to save that first refused call.
   */
  Optional<Set<String>> jsonObjectModels();
}
