package dev.atelier.worker.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.List;

/**
 * What a worker replica serves and how hard it works. Every value can be set from the environment,
 * e.g. {@code WORKER_ROLES=developer,tester}.
 */
@ConfigMapping(prefix = "worker")
public interface WorkerConfig {

  /** The roles whose step queues this replica consumes. */
  @WithDefault("business-analyst,architect,developer,tester,reviewer,technical-writer")
  List<String> roles();

  /** Unacknowledged step requests a consumer channel may hold. */
  @WithDefault("4")
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
}
