-- The LLM-call ledger: one row per LlmCallRecorded event, stored exactly once.
--
-- Partitioned by month on occurred_at so that old data is removed by dropping whole partitions
-- (no mass DELETE, no bloat) and time-bounded queries touch only the months they ask for. The
-- monthly partitions themselves are created by the service (PartitionMaintenance) at start-up and
-- daily, because their names depend on the date; llm_call_default catches any row whose month has
-- no partition yet (a far-past or far-future occurredAt) so ingest never fails on a missing one.
--
-- Deduplication key: PostgreSQL requires a partitioned table's primary key to contain the
-- partition key, so the key is (event_id, occurred_at). That is still an exact dedupe: occurredAt
-- is part of the immutable event — the gateway sets it once, and both a publisher retry and a
-- broker redelivery carry the same body — so a repeated event always has the same key and lands in
-- the same partition, where "on conflict do nothing" skips it. We chose this over a separate
-- unpartitioned event-id table because that table would double the index writes per record and
-- could not be trimmed by dropping partitions, which is the whole point of partitioning here.
create table llm_call (
    event_id               uuid           not null,
    occurred_at            timestamptz    not null,
    event_type             text           not null,
    workflow_id            uuid,
    step_id                text,
    agent                  text,
    conversation_id        text,
    team                   text,
    operation              text           not null,
    provider               text           not null,
    request_model          text,
    response_model         text,
    status                 text           not null,
    error_code             text,
    streamed               boolean        not null,
    input_tokens           bigint         not null,
    cached_input_tokens    bigint         not null,
    output_tokens          bigint         not null,
    reasoning_tokens       bigint         not null,
    usage_source           text,
    -- exact USD; null means no price was known, which is never the same as 0
    cost_usd               numeric(30, 18),
    price_version          text,
    started_at             timestamptz,
    latency_ms             bigint         not null,
    time_to_first_token_ms bigint,
    simulated              boolean        not null,
    trace_id               text,
    -- when the ledger stored it, to observe ingest lag
    recorded_at            timestamptz    not null default now(),
    constraint llm_call_pk primary key (event_id, occurred_at),
    constraint llm_call_status_ck check (status in ('ok', 'error')),
    constraint llm_call_tokens_ck check (
        input_tokens >= 0 and cached_input_tokens >= 0 and output_tokens >= 0
        and reasoning_tokens >= 0 and latency_ms >= 0),
    constraint llm_call_cost_ck check (cost_usd is null or cost_usd >= 0)
) partition by range (occurred_at);

create table llm_call_default partition of llm_call default;

-- One workflow's calls, in time order (workflow usage, call list filtered by workflow).
create index llm_call_workflow_idx on llm_call (workflow_id, occurred_at);
create index llm_call_agent_idx on llm_call (agent, occurred_at);
-- "model" is the model that answered, or the one asked for when the provider named none (errors).
create index llm_call_model_idx on llm_call ((coalesce(response_model, request_model)), occurred_at);
-- Unfiltered newest-first pages: keyset on (occurred_at, event_id).
create index llm_call_time_idx on llm_call (occurred_at, event_id);

-- What the ledger knows about each workflow, from WorkflowStatusChanged events. Only a newer event
-- (by occurredAt) may replace the status, so out-of-order delivery cannot move it backwards.
create table workflow (
    workflow_id         uuid        primary key,
    definition          text,
    definition_version  integer,
    title               text,
    team                text,
    status              text        not null,
    previous_status     text,
    reason              text,
    status_changed_at   timestamptz not null,
    last_event_id       uuid        not null,
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now()
);
