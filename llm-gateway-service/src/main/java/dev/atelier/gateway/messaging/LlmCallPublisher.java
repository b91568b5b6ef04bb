package dev.atelier.gateway.messaging;

import dev.atelier.contracts.EventCodec;
import dev.atelier.contracts.LlmCallRecorded;
import dev.atelier.contracts.Topology;
import dev.atelier.gateway.config.GatewayConfig;
import dev.atelier.kit.amqp.EncodedEvent;
import dev.atelier.kit.amqp.EventPublisher;
import dev.atelier.kit.amqp.Outgoing;
import dev.atelier.kit.amqp.RabbitBroker;
import dev.atelier.kit.timers.Timers;
import dev.atelier.kit.tracing.TraceContexts;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.context.Context;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.jboss.logging.Logger;

/**
 * Publishes one {@link LlmCallRecorded} per call without making the caller wait for the broker, and
 * without losing it when the process is killed.
 *
 * <p>{@link #record} encodes the record once and appends it to the local {@link RecordJournal} (one
 * file write, no broker, no database) before the call's answer is completed to the caller. A
 * dedicated thread reads the journal in order and publishes batches of those bytes with one broker
 * confirm each (service-kit {@link EventPublisher#publishAll} of {@link Outgoing#stored} events);
 * when a publish is not confirmed the batch is written to the {@code pending_call_record} table,
 * which a scheduled drainer re-publishes once the broker is back. Only after the confirm (or the
 * spool's commit) does the journal's checkpoint move past the batch; at start-up every record after
 * the checkpoint is published again, so a kill -9 at any point loses nothing and may publish a
 * record twice, which consumers deduplicate on its event id.
 */
@ApplicationScoped
public class LlmCallPublisher {

  private static final Logger LOG = Logger.getLogger(LlmCallPublisher.class);
  private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
  private static final long SHUTDOWN_MILLIS = 10_000;

  /** Error code of a call a provider had when the gateway process died: its answer is unknown. */
  public static final String INTERRUPTED = "gateway_interrupted";

  /** Bytes of an in-flight slot: a record with long names and trace headers takes a file. */
  private static final int SLOT_BYTES = 2048;

  private final EventPublisher publisher;
  private final RabbitBroker broker;
  private final TraceContexts traces;
  private final PendingRecordRepository spool;
  private final PendingRecordDrainer drainer;
  private final GatewayConfig.Records config;
  private final Counter published;
  private final Counter spooled;
  private volatile RecordJournal journal;
  private volatile MarkFile inFlight;
  private volatile boolean running;

  /** Where the earlier run's records end in the journal: those before are settled again. */
  private volatile long recoveredUpTo;

  private final Event<RecoveredCall> recovered;
  private final Event<LeftoverKeys> leftoverKeys;
  private final HeldKeys heldKeys;

  /** Set while the publisher thread is parked with nothing to read: then a record wakes it. */
  private volatile boolean idle;

  private Thread worker;
  private ScheduledExecutorService retrier;

  LlmCallPublisher(
      EventPublisher publisher,
      RabbitBroker broker,
      TraceContexts traces,
      PendingRecordRepository spool,
      PendingRecordDrainer drainer,
      GatewayConfig config,
      MeterRegistry registry,
      Event<RecoveredCall> recovered,
      Event<LeftoverKeys> leftoverKeys,
      HeldKeys heldKeys) {
    this.recovered = recovered;
    this.leftoverKeys = leftoverKeys;
    this.heldKeys = heldKeys;
    this.publisher = publisher;
    this.broker = broker;
    this.traces = traces;
    this.spool = spool;
    this.drainer = drainer;
    this.config = config.records();
    this.published =
        Counter.builder("atelier.llm.records.published")
            .description("LLM call records confirmed by the broker")
            .register(registry);
    this.spooled =
        Counter.builder("atelier.llm.records.spooled")
            .description(
                "LLM call records written to the database spool because the broker did not confirm them")
            .register(registry);
    Gauge.builder("atelier.llm.records.unconfirmed", this, p -> p.backlog(false))
        .description(
            "LLM call records in the local journal not yet confirmed by the broker or the spool")
        .register(registry);
    Gauge.builder("atelier.llm.calls.in.flight", this, LlmCallPublisher::inFlight)
        .description(
            "Calls sent to a provider and not yet recorded: a kill now would record them as"
                + " interrupted at the next start")
        .register(registry);
    Gauge.builder("atelier.llm.records.unconfirmed.size", this, p -> p.backlog(true))
        .description("Bytes of the local record journal not yet confirmed")
        .baseUnit("bytes")
        .register(registry);
  }

  private double backlog(boolean bytes) {
    RecordJournal j = journal;
    if (j == null) {
      return 0;
    }
    return bytes ? j.backlogBytes() : j.backlogRecords();
  }

  private double inFlight() {
    MarkFile f = inFlight;
    return f == null ? 0 : f.marked();
  }

  void onStart(@Observes StartupEvent event) throws IOException {
    GatewayConfig.Records.Journal jc = config.journal();
    // First: a second process on the same directory must fail before it serves anything.
    journal = RecordJournal.open(Path.of(jc.dir()), jc.segmentSize().asLongValue(), jc.fsync());
    MarkFile marks =
        MarkFile.open(journal.directory(), MarkFile.IN_FLIGHT, jc.inFlightSlots(), SLOT_BYTES);
    List<byte[]> interrupted = marks.leftovers();
    if (!interrupted.isEmpty()) {
      LOG.warnf(
          "%d call(s) were at a provider when an earlier run stopped; recording them as %s",
          interrupted.size(), INTERRUPTED);
      for (byte[] payload : interrupted) {
        try {
          JournaledRecord.decode(payload); // one that cannot be read would stop the publisher
        } catch (RuntimeException e) {
          LOG.warnf("an in-flight mark cannot be read (%s); skipped", e.toString());
          continue;
        }
        journal.append(RecordJournal.frame(payload));
      }
    }
    // A kill before this line journals them again at the next start: the same event ids, which
    // consumers deduplicate, and a settlement that finds nothing left to settle.
    marks.forgetLeftovers();
    inFlight = marks;
    List<byte[]> keys = heldKeys.open(journal.directory(), jc.inFlightSlots());
    if (!keys.isEmpty()) {
      // Off the start-up thread: letting go waits for the database.
      Infrastructure.getDefaultWorkerPool()
          .execute(() -> leftoverKeys.fire(new LeftoverKeys(keys)));
    }
    // Everything journaled so far, the interrupted calls included, is settled again below.
    recoveredUpTo = journal.written();
    if (journal.backlogRecords() > 0) {
      LOG.infof(
          "record journal %s: %d record(s) of an earlier run not confirmed; publishing them again",
          journal.directory().toAbsolutePath(), journal.backlogRecords());
    }
    // Declared (with every Atelier exchange, budget events included) before the first record, so
    // records and budget events published before tracking-service or the orchestrator start their
    // consumers wait in these queues instead of being unroutable.
    broker.declare(
        Topology.TRACKING_LLM_CALLS,
        Topology.ORCHESTRATOR_LLM_CALLS,
        Topology.TRACKING_BUDGET_EVENTS);
    running = true;
    worker = new Thread(this::run, "llm-call-publisher");
    worker.setDaemon(true);
    worker.start();
    retrier = Timers.every("llm-call-spool-drainer", config.retryInterval(), this::drainSpool);
  }

  void onStop(@Observes ShutdownEvent event) throws InterruptedException, IOException {
    running = false;
    if (worker != null) {
      LockSupport.unpark(worker);
      worker.join(SHUTDOWN_MILLIS);
    }
    if (retrier != null) {
      retrier.shutdownNow();
    }
    RecordJournal j = journal;
    if (j != null) {
      j.close(); // what is still unconfirmed is published at the next start
    }
    MarkFile f = inFlight;
    if (f != null) {
      f.close(); // calls still at a provider are recorded as interrupted at the next start
    }
    heldKeys.close();
  }

  /**
   * Marks a call as sent to a provider, before it is sent: should this process die before the
   * call's {@link #record}, the next start journals {@code ifInterrupted} for it (status {@code
   * error}, {@link #INTERRUPTED}, the prompt estimated). A provider bills a request it received
   * whether or not the gateway lives to read its answer. A memory write, no system call.
   */
  public CallMark sent(LlmCallRecorded ifInterrupted, Context parent) {
    MarkFile f = inFlight;
    if (f == null) {
      return CallMark.NONE;
    }
    return f.mark(
        ifInterrupted.eventId(), JournaledRecord.encode(ifInterrupted, traceHeaders(parent)));
  }

  /**
   * Writes a record to the local journal and returns: when it returns, the record survives a kill
   * of this process. Call it before the caller's answer is completed.
   */
  public void record(LlmCallRecorded event, Context parent) {
    record(event, parent, CallMark.NONE);
  }

  /**
   * {@link #record(LlmCallRecorded, Context)} for a call {@link #sent marked} as sent, clearing its
   * mark once the record is kept.
   */
  public void record(LlmCallRecorded event, Context parent, CallMark mark) {
    byte[] payload = JournaledRecord.encode(event, traceHeaders(parent));
    RecordJournal j = journal;
    try {
      if (j == null) {
        throw new IOException("the record journal is not open");
      }
      j.append(RecordJournal.frame(payload));
      mark.clear();
      if (idle) {
        LockSupport.unpark(worker);
      }
    } catch (IOException | RuntimeException e) {
      // Shutting down (journal closed) or the disk refused the write: the database spool, as the
      // last place the record can be kept; the mark stays until it is.
      LOG.warnf("record journal unavailable (%s); spooling call record %s", e, event.eventId());
      JournaledRecord r = JournaledRecord.decode(payload);
      Infrastructure.getDefaultWorkerPool()
          .execute(
              () -> {
                if (spool(List.of(r), "record journal unavailable: " + e.getMessage())) {
                  mark.clear();
                }
              });
    }
  }

  private Map<String, String> traceHeaders(Context parent) {
    Map<String, Object> carrier = new HashMap<>(4);
    traces.inject(parent == null ? Context.root() : parent, carrier);
    Map<String, String> headers = new HashMap<>(4);
    carrier.forEach((k, v) -> headers.put(k, String.valueOf(v)));
    return headers;
  }

  /**
   * Publishes the outbox now rather than at the next retry interval: called after a settlement
   * queued budget threshold events.
   */
  public void drainSoon() {
    ScheduledExecutorService r = retrier;
    if (r != null && !r.isShutdown()) {
      try {
        r.execute(this::drainSpool);
      } catch (RuntimeException e) {
        // shutting down: the events stay in the outbox for the next replica to publish
      }
    }
  }

  private void run() {
    RecordJournal j = journal;
    int batchSize = Math.max(1, config.batchSize());
    long pos = j.checkpoint();
    while (true) {
      boolean stopping = !running;
      try {
        RecordJournal.Batch batch = j.read(pos, batchSize);
        if (batch.entries().isEmpty()) {
          if (batch.next() != pos) {
            j.checkpoint(batch.next(), 0); // past a torn tail of an earlier run
            pos = batch.next();
            continue;
          }
          if (stopping) {
            return;
          }
          idle = true;
          if (j.written() == pos) {
            LockSupport.parkNanos(POLL_NANOS);
          }
          idle = false;
          continue;
        }
        List<JournaledRecord> records = new ArrayList<>(batch.entries().size());
        for (RecordJournal.Entry e : batch.entries()) {
          JournaledRecord record = JournaledRecord.decode(e.payload());
          records.add(record);
          if (e.end() <= recoveredUpTo) {
            settleAgain(record);
          }
        }
        if (publishOrSpool(records)) {
          j.checkpoint(batch.next(), records.size());
          pos = batch.next();
        } else if (stopping) {
          return; // kept in the journal for the next start
        } else {
          LockSupport.parkNanos(config.retryInterval().toNanos());
        }
      } catch (IOException | RuntimeException e) {
        LOG.errorf(e, "LLM call publisher loop failed; retrying in %s", config.retryInterval());
        if (stopping) {
          return;
        }
        LockSupport.parkNanos(config.retryInterval().toNanos());
      }
    }
  }

  /**
   * The earlier run may have died between journaling this record and settling its call's budget
   * reservation, which would then expire and be charged at its worst case: settled with the
   * record's cost instead (again, harmlessly, if it was settled).
   */
  private void settleAgain(JournaledRecord record) {
    try {
      LlmCallRecorded event = EventCodec.read(record.body(), LlmCallRecorded.class);
      recovered.fire(new RecoveredCall(event.eventId(), event.costUsd()));
    } catch (RuntimeException e) {
      LOG.warnf("cannot settle the recovered call %s again: %s", record.eventId(), e.toString());
    }
  }

  /** True when the broker confirmed the batch or the spool committed it. */
  private boolean publishOrSpool(List<JournaledRecord> batch) {
    try {
      publisher.publishAll(
          batch.stream()
              .map(
                  r ->
                      Outgoing.stored(
                          Topology.LLM_CALLS_EXCHANGE,
                          Topology.LLM_CALL,
                          new EncodedEvent(
                              r.eventId(),
                              r.workflowId(),
                              LlmCallRecorded.TYPE,
                              r.occurredAt(),
                              r.body()),
                          traces.extract(r.traceHeaders())))
              .toList());
      published.increment(batch.size());
      return true;
    } catch (RuntimeException e) {
      LOG.warnf(
          "%d LLM call record(s) not confirmed by the broker, spooling them: %s",
          batch.size(), e.getMessage());
      return spool(batch, e.getMessage());
    }
  }

  private boolean spool(List<JournaledRecord> records, String reason) {
    try {
      spool.insertJournaled(records, reason);
      spooled.increment(records.size());
      return true;
    } catch (Exception e) {
      LOG.errorf(
          "%d LLM call record(s) neither confirmed by the broker (%s) nor spooled (%s); kept in"
              + " the record journal",
          records.size(), reason, e.getMessage());
      return false;
    }
  }

  private void drainSpool() {
    if (!broker.isOpen()) {
      return; // the spool waits; draining now would only time out against a closed connection
    }
    try {
      int limit = Math.max(1, config.batchSize());
      int n;
      do {
        n = drainer.drainOnce(limit);
        if (n > 0) {
          published.increment(n);
          LOG.infof("published %d event(s) from the outbox", n);
        }
      } while (n == limit);
    } catch (RuntimeException e) {
      LOG.warnf("draining the LLM call record spool failed: %s", e.getMessage());
    }
  }
}
