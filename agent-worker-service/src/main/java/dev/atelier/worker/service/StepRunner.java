package dev.atelier.worker.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import com.networknt.schema.JsonSchema;
import dev.atelier.contracts.AgentSpec;
import dev.atelier.contracts.ArtifactRef;
import dev.atelier.contracts.StepRequested;
import dev.atelier.worker.client.ArtifactView;
import dev.atelier.worker.client.Attribution;
import dev.atelier.worker.client.BatchRead;
import dev.atelier.worker.client.ContextClient;
import dev.atelier.worker.client.ContextRejectedException;
import dev.atelier.worker.client.ContextUnavailableException;
import dev.atelier.worker.client.NewArtifact;
import dev.atelier.worker.client.Producer;
import dev.atelier.worker.tracing.AgentSpans;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.eclipse.microprofile.faulttolerance.exceptions.TimeoutException;
import org.jboss.logging.Logger;

/**
 * Runs one attempt of one step: reads its inputs from context-service, asks the model through the
 * gateway, validates the answer, and stores it (JSON and a Markdown rendering) under idempotency
 * keys derived from (step, attempt, artifact). A repeated delivery of the same attempt finds the
 * output that attempt already stored and reuses it instead of calling the model again, so a worker
 * killed between storing and acknowledging costs nothing and duplicates nothing.
 *
 * <p>Every expected failure becomes a {@link StepOutcome.Failed}; the caller publishes the outcome.
 */
@ApplicationScoped
public class StepRunner {

  /** The workflow's team, which the orchestrator puts into every step's metadata. */
  static final String TEAM_METADATA = "atelier.team";

  private static final Logger LOG = Logger.getLogger(StepRunner.class);
  private static final String JSON_MEDIA_TYPE = "application/json";
  private static final String MARKDOWN_MEDIA_TYPE = "text/markdown";

  /** The name of an output's Markdown rendering: the output's name and this. */
  static final String MARKDOWN_SUFFIX = ".md";

  private static final int SUMMARY_LENGTH = 200;
  private static final List<String> SUMMARY_KEYS =
      List.of("summary", "title", "overview", "description");

  private final ContextClient context;
  private final PromptRenderer prompts;
  private final OutputValidator validator;
  private final AgentInvoker invoker;
  private final MarkdownRenderer markdown;
  private final AgentSpans spans;
  private final EndedWorkflows ended;
  private final StepClaims claims;
  private final ObjectMapper mapper;

  StepRunner(
      ContextClient context,
      PromptRenderer prompts,
      OutputValidator validator,
      AgentInvoker invoker,
      MarkdownRenderer markdown,
      AgentSpans spans,
      EndedWorkflows ended,
      StepClaims claims,
      ObjectMapper mapper) {
    this.claims = claims;
    this.context = context;
    this.prompts = prompts;
    this.validator = validator;
    this.invoker = invoker;
    this.markdown = markdown;
    this.spans = spans;
    this.ended = ended;
    this.mapper = mapper;
  }

  /**
   * Runs the step inside its {@code invoke_agent} span, with the step's attribution in the context
   * so every outbound call carries it (as headers).
   */
  public StepOutcome run(StepRequested step, StepClaims.Lease lease) {
    String role = step.agent() == null ? null : step.agent().role();
    String conversationId = step.workflowId() + ":" + step.stepKey();
    Span span = spans.start(step, conversationId);
    Attribution attribution =
        new Attribution(
            step.workflowId().toString(),
            step.stepId().toString(),
            role,
            conversationId,
            step.budgetLimitUsd() == null ? null : step.budgetLimitUsd().toPlainString(),
            step.metadata().get(TEAM_METADATA));
    try (Scope ignored = attribution.storeIn(Context.current().with(span)).makeCurrent()) {
      StepOutcome outcome;
      try {
        outcome = execute(step, span, lease);
      } catch (HeldElsewhere h) {
        span.setAttribute("atelier.step.duplicate", true);
        return new StepOutcome.Duplicate(h.getMessage());
      } catch (StepFailure f) {
        outcome = StepOutcome.Failed.of(f);
      } catch (RuntimeException e) {
        // A defect, not a property of the step: another attempt (maybe on a fixed worker) may pass.
        LOG.errorf(e, "step %s attempt %d failed unexpectedly", step.stepId(), step.attempt());
        span.recordException(e);
        outcome =
            new StepOutcome.Failed(
                StepFailure.INTERNAL_ERROR,
                "the worker failed unexpectedly; the error is logged with this step's trace id",
                true,
                null);
      }
      if (outcome instanceof StepOutcome.Failed failed) {
        AgentSpans.failed(span, failed.errorCode(), failed.message());
      }
      return outcome;
    } finally {
      span.end();
    }
  }

  private StepOutcome execute(StepRequested step, Span span, StepClaims.Lease lease) {
    if (step.deadline() != null && !Instant.now().isBefore(step.deadline())) {
      throw new StepFailure(
          StepFailure.DEADLINE_EXCEEDED,
          true,
          "the attempt's deadline " + step.deadline() + " had passed when a worker received it");
    }
    // A step still queued when its workflow was cancelled (or failed) costs nothing; so does a
    // repair of one still running (checked before every call).
    ended.check(step);
    AgentSpec agent = checked(step.agent());
    JsonSchema schema = validator.compile(agent.outputSchema());

    // One request for everything the step reads: its inputs, and the output this very attempt
    // stored if an earlier delivery got that far.
    String outputKey = key(step, agent.outputArtifact());
    BatchRead.Result reads = readStep(step, outputKey, lease);
    if (!reads.claimGranted()) {
      reads = awaitLease(step, outputKey, lease, reads.claim());
    }
    lease.held();
    ArtifactView stored = reads.written() == null ? null : reads.written().get(outputKey);

    String byline =
        "Written by "
            + agent.role()
            + " (agent version "
            + agent.version()
            + ") for step "
            + step.stepKey()
            + ", attempt "
            + step.attempt();
    JsonNode output;
    ArtifactRef jsonRef;
    ArtifactRef markdownRef;
    if (stored != null) {
      LOG.infof(
          "step %s attempt %d already stored %s; reusing it",
          step.stepId(), step.attempt(), stored.artifactRef());
      jsonRef = stored.artifactRef();
      output = stored.content();
      markdownRef = store(step, markdown(agent, byline, output, step));
    } else {
      RenderedPrompt prompt =
          prompts.render(agent, step.requirement(), step.feedback(), inputs(step, reads));
      if (!prompt.truncations().isEmpty()) {
        LOG.infof("step %s: context limit applied: %s", step.stepId(), prompt.truncations());
      }
      AgentInvoker.Answer answer =
          invoker.invoke(
              agent,
              prompt,
              AgentInvoker.responseSchema(agent),
              text -> validator.check(schema, text),
              step.deadline(),
              step.stepId() + ":" + step.attempt(),
              () -> {
                ended.check(step);
                lease.checkHeld();
              });
      span.setAttribute(AgentSpans.LLM_CALLS, (long) answer.calls());
      span.setAttribute(AgentSpans.INPUT_TOKENS, answer.inputTokens());
      span.setAttribute(AgentSpans.OUTPUT_TOKENS, answer.outputTokens());
      if (answer.responseModel() != null) {
        span.setAttribute(AgentSpans.RESPONSE_MODEL, answer.responseModel());
      }
      output = answer.output();
      List<ArtifactRef> refs =
          storeAll(
              step,
              lease,
              List.of(
                  new NewArtifact(
                      agent.outputArtifact(),
                      NewArtifact.KIND_JSON,
                      JSON_MEDIA_TYPE,
                      output,
                      producer(step)),
                  markdown(agent, byline, output, step)));
      if (refs != null) {
        jsonRef = refs.get(0);
        markdownRef = refs.get(1);
      } else {
        // Another delivery of this attempt (a redelivery while this one still ran) stored its own
        // answer first. That one is the attempt's output: verdict, summary and Markdown come from
        // it, not from the answer just discarded, or the result would contradict the artifact.
        ArtifactView winner = storedOutput(step, outputKey);
        LOG.infof(
            "step %s attempt %d: another delivery stored %s first; using it",
            step.stepId(), step.attempt(), winner.artifactRef());
        jsonRef = winner.artifactRef();
        output = winner.content();
        markdownRef = store(step, markdown(agent, byline, output, step));
      }
    }
    return new StepOutcome.Completed(
        List.of(jsonRef, markdownRef), verdict(output), summary(agent, jsonRef, output));
  }

  private NewArtifact markdown(
      AgentSpec agent, String byline, JsonNode output, StepRequested step) {
    return new NewArtifact(
        agent.outputArtifact() + MARKDOWN_SUFFIX,
        NewArtifact.KIND_MARKDOWN,
        MARKDOWN_MEDIA_TYPE,
        TextNode.valueOf(markdown.render(agent.outputArtifact(), byline, output)),
        producer(step));
  }

  private static AgentSpec checked(AgentSpec agent) {
    List<String> missing = new ArrayList<>();
    if (agent.role() == null || agent.role().isBlank()) {
      missing.add("role");
    }
    if (agent.userPromptTemplate() == null) {
      missing.add("userPromptTemplate");
    }
    if (agent.outputArtifact() == null || agent.outputArtifact().isBlank()) {
      missing.add("outputArtifact");
    }
    if (agent.outputSchema() == null) {
      missing.add("outputSchema");
    }
    if (agent.model() == null || agent.model().isBlank()) {
      missing.add("model");
    }
    if (!missing.isEmpty()) {
      throw new StepFailure(
          StepFailure.REQUEST_INVALID,
          false,
          "the step's agent definition lacks " + String.join(", ", missing));
    }
    return agent;
  }

  /**
   * Waits while another run holds the attempt's lease: a second delivery of the attempt (an outbox
   * message published twice, a redelivery while the first worker still runs it) would otherwise pay
   * for the same LLM calls at the same time. When that run releases the lease its output is stored,
   * and this one reuses it below; when its worker died, its lease runs out and this one runs the
   * step. At the attempt's deadline, or when its workflow ends, this delivery gives up and
   * publishes nothing (the holder's result, or the orchestrator's timeout, decides the attempt).
   */
  private BatchRead.Result awaitLease(
      StepRequested step, String outputKey, StepClaims.Lease lease, BatchRead.ClaimState state) {
    claims.waited();
    LOG.infof(
        "step %s attempt %d is run by %s (lease until %s); waiting for it",
        step.stepId(), step.attempt(), state.holder(), state.expiresAt());
    while (true) {
      if (step.deadline() != null && !Instant.now().isBefore(step.deadline())) {
        throw new HeldElsewhere(
            "the attempt's deadline passed while " + state.holder() + " ran it");
      }
      try {
        ended.check(step);
      } catch (StepFailure f) {
        throw new HeldElsewhere("its workflow ended while " + state.holder() + " ran it");
      }
      try {
        Thread.sleep(claims.pollInterval().toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new HeldElsewhere("interrupted while " + state.holder() + " ran it");
      }
      try {
        state = lease.ask();
      } catch (ContextRejectedException e) {
        throw new HeldElsewhere("context-service refused the lease: " + e.getMessage());
      } catch (RuntimeException e) {
        continue; // context-service unavailable: ask again
      }
      if (state.granted()) {
        LOG.infof("step %s attempt %d: the lease is this run's now", step.stepId(), step.attempt());
        return readStep(step, outputKey, lease);
      }
    }
  }

  /** The step's inputs, and what {@code outputKey} wrote if anything, having taken the lease. */
  private BatchRead.Result readStep(StepRequested step, String outputKey, StepClaims.Lease lease) {
    try {
      return context.readAll(
          step.workflowId(), promptInputs(step.inputs()), List.of(outputKey), lease.claim());
    } catch (ContextRejectedException e) {
      throw new StepFailure(
          e.status() == 404 ? StepFailure.INPUT_MISSING : StepFailure.CONTEXT_REJECTED,
          false,
          "inputs " + step.inputs() + " cannot be read: " + e.getMessage());
    } catch (RuntimeException e) {
      throw contextFailure(e);
    }
  }

  /**
   * The inputs the prompt needs: without the Markdown rendering ({@code X.md}) a worker writes
   * beside each output {@code X} when {@code X} itself is among them. A step's inputs carry both;
   * the rendering says the same again and would double the input tokens (templates cannot name it:
   * a placeholder's name has no dot).
   */
  static List<ArtifactRef> promptInputs(List<ArtifactRef> inputs) {
    Set<String> names = new HashSet<>();
    inputs.forEach(ref -> names.add(ref.name()));
    return inputs.stream()
        .filter(
            ref ->
                !(ref.name().endsWith(MARKDOWN_SUFFIX)
                    && names.contains(
                        ref.name().substring(0, ref.name().length() - MARKDOWN_SUFFIX.length()))))
        .toList();
  }

  private List<LoadedInput> inputs(StepRequested step, BatchRead.Result reads) {
    List<LoadedInput> inputs = new ArrayList<>(step.inputs().size());
    for (ArtifactView artifact : reads.artifacts()) {
      ArtifactRef ref = artifact.artifactRef();
      inputs.add(new LoadedInput(ref.name(), ref.version(), text(artifact.content())));
    }
    return inputs;
  }

  private String text(JsonNode content) {
    if (content == null || content.isNull()) {
      return "";
    }
    if (content.isTextual()) {
      return content.textValue();
    }
    try {
      return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(content);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return content.toString();
    }
  }

  /**
   * Stores the artifacts in one request, each under the key {@code <stepId>:<attempt>:<name>}.
   *
   * @return their refs, or {@code null} when a key already wrote a different body (another delivery
   *     of this attempt got another answer from the model): then nothing of the batch is stored
   */
  private List<ArtifactRef> storeAll(
      StepRequested step, StepClaims.Lease lease, List<NewArtifact> artifacts) {
    try {
      List<ArtifactRef> refs =
          context
              .writeAll(
                  step.workflowId(),
                  step.stepId() + ":" + step.attempt(),
                  artifacts,
                  lease.releaseWithWrite())
              .stream()
              .map(ArtifactView::artifactRef)
              .toList();
      lease.releasedWithWrite();
      return refs;
    } catch (ContextRejectedException e) {
      lease.writeFailed();
      if (e.status() == 422) {
        return null;
      }
      throw contextFailure(e);
    } catch (RuntimeException e) {
      lease.writeFailed();
      throw contextFailure(e);
    }
  }

  /**
   * The output another delivery of this attempt stored under {@code outputKey}, content included.
   *
   * @throws StepFailure {@code context_rejected} when the key wrote nothing: the write was refused
   *     for another reason
   */
  private ArtifactView storedOutput(StepRequested step, String outputKey) {
    BatchRead.Result reads =
        withContext(() -> context.readAll(step.workflowId(), List.of(), List.of(outputKey), null));
    ArtifactView stored = reads.written() == null ? null : reads.written().get(outputKey);
    if (stored == null || stored.content() == null) {
      throw new StepFailure(
          StepFailure.CONTEXT_REJECTED,
          false,
          "context-service refused the output of step "
              + step.stepKey()
              + " attempt "
              + step.attempt()
              + " as reusing a key of that attempt, yet holds no output of it");
    }
    return stored;
  }

  /**
   * Stores one artifact under the key {@code <stepId>:<attempt>:<name>}. If the key already wrote a
   * different body, the version it wrote is the attempt's output.
   */
  private ArtifactRef store(StepRequested step, NewArtifact artifact) {
    String key = key(step, artifact.name());
    try {
      return context.write(step.workflowId(), key, artifact).artifactRef();
    } catch (ContextRejectedException e) {
      if (e.status() == 422) {
        // The key wrote another body before (an earlier delivery's): what it wrote is the
        // attempt's artifact, looked up by the key itself rather than in the list of versions.
        BatchRead.Result reads =
            withContext(() -> context.readAll(step.workflowId(), List.of(), List.of(key), null));
        ArtifactView earlier = reads.written() == null ? null : reads.written().get(key);
        if (earlier != null) {
          return earlier.artifactRef();
        }
      }
      throw contextFailure(e);
    } catch (RuntimeException e) {
      throw contextFailure(e);
    }
  }

  /** The idempotency key of one artifact write of this attempt. */
  private static String key(StepRequested step, String artifactName) {
    return step.stepId() + ":" + step.attempt() + ":" + artifactName;
  }

  private static Producer producer(StepRequested step) {
    return new Producer(
        step.stepId().toString(),
        step.stepKey(),
        step.attempt(),
        step.agent().role(),
        step.agent().version());
  }

  private static <T> T withContext(Supplier<T> call) {
    try {
      return call.get();
    } catch (RuntimeException e) {
      throw contextFailure(e);
    }
  }

  /** A context-service failure as a step failure; anything else is rethrown as is. */
  private static RuntimeException contextFailure(RuntimeException e) {
    if (e instanceof ContextUnavailableException) {
      return new StepFailure(StepFailure.CONTEXT_UNAVAILABLE, true, e.getMessage());
    }
    if (e instanceof ContextRejectedException) {
      return new StepFailure(StepFailure.CONTEXT_REJECTED, false, e.getMessage());
    }
    if (e instanceof TimeoutException) {
      return new StepFailure(
          StepFailure.CONTEXT_UNAVAILABLE, true, "context-service did not answer in time");
    }
    return e;
  }

  private static String verdict(JsonNode output) {
    JsonNode verdict = output.path("verdict");
    return verdict.isTextual() ? verdict.textValue() : null;
  }

  /** The output's own summary line when it has one, else what was written. */
  private static String summary(AgentSpec agent, ArtifactRef ref, JsonNode output) {
    for (String key : SUMMARY_KEYS) {
      JsonNode value = output.path(key);
      if (value.isTextual() && !value.textValue().isBlank()) {
        String line = value.textValue().strip().lines().findFirst().orElse("");
        return Clip.clip(line, SUMMARY_LENGTH);
      }
    }
    StringBuilder fields = new StringBuilder();
    for (Iterator<String> names = output.fieldNames(); names.hasNext(); ) {
      fields.append(fields.isEmpty() ? "" : ", ").append(names.next());
    }
    String line = agent.role() + " wrote " + ref + (fields.isEmpty() ? "" : " (" + fields + ")");
    return Clip.clip(line, SUMMARY_LENGTH);
  }
}
