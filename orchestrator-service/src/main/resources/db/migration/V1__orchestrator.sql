-- Definitions are immutable per version: a change inserts version + 1, so a workflow or a step can
-- always point at the exact version it runs with. Deleting retires the latest version.
create table agent_definition (
    name         text        not null,
    version      int         not null check (version >= 1),
    definition   jsonb       not null,
    content_hash text        not null,
    source       text        not null check (source in ('builtin', 'api')),
    created_at   timestamptz not null default now(),
    retired_at   timestamptz,
    primary key (name, version)
);

create table workflow_definition (
    name         text        not null,
    version      int         not null check (version >= 1),
    definition   jsonb       not null,
    content_hash text        not null,
    source       text        not null check (source in ('builtin', 'api')),
    created_at   timestamptz not null default now(),
    retired_at   timestamptz,
    primary key (name, version)
);

create table workflow (
    id                  uuid primary key,
    title               text        not null,
    requirement         text        not null,
    definition_name     text        not null,
    definition_version  int         not null,
    team                text        not null,
    status              text        not null
        check (status in ('running', 'waiting_approval', 'completed', 'failed', 'cancelled')),
    budget_usd          numeric check (budget_usd >= 0),
    metadata            jsonb       not null default '{}'::jsonb,
    idempotency_key     text unique,
    request_hash        text,
    trace_context       jsonb       not null default '{}'::jsonb,
    trace_id            text,
    failure_reason      text,
    created_at          timestamptz not null,
    updated_at          timestamptz not null,
    completed_at        timestamptz,
    -- usage totals, accumulated from LlmCallRecorded (exact sums: numeric without scale)
    llm_calls           bigint      not null default 0,
    input_tokens        bigint      not null default 0,
    cached_input_tokens bigint      not null default 0,
    output_tokens       bigint      not null default 0,
    cost_usd            numeric     not null default 0,
    unknown_cost_calls  bigint      not null default 0,
    foreign key (definition_name, definition_version) references workflow_definition (name, version)
);

create index workflow_created_idx on workflow (created_at desc, id desc);
create index workflow_status_created_idx on workflow (status, created_at desc, id desc);

create table workflow_step (
    id                  uuid primary key,
    workflow_id         uuid        not null references workflow (id) on delete cascade,
    step_key            text        not null,
    position            int         not null,
    role                text        not null,
    agent_version       int         not null,
    state               text        not null
        check (state in ('pending', 'dispatched', 'running', 'succeeded', 'failed', 'retry_scheduled',
                         'cancelled', 'skipped', 'waiting_approval')),
    -- attempt counts every dispatch of the step (it keys the worker's idempotent writes);
    -- tries counts the dispatches of the current round, which the retry policy limits
    attempt             int         not null default 0,
    tries               int         not null default 0,
    loop_count          int         not null default 0,
    feedback            text,
    extra_inputs        jsonb       not null default '[]'::jsonb,
    outputs             jsonb       not null default '[]'::jsonb,
    verdict             text,
    summary             text,
    error_code          text,
    error_message       text,
    next_attempt_at     timestamptz,
    deadline_at         timestamptz,
    dispatched_at       timestamptz,
    started_at          timestamptz,
    finished_at         timestamptz,
    llm_calls           bigint      not null default 0,
    input_tokens        bigint      not null default 0,
    cached_input_tokens bigint      not null default 0,
    output_tokens       bigint      not null default 0,
    cost_usd            numeric     not null default 0,
    unknown_cost_calls  bigint      not null default 0,
    unique (workflow_id, step_key),
    foreign key (role, agent_version) references agent_definition (name, version)
);

create index workflow_step_workflow_idx on workflow_step (workflow_id, position);
create index workflow_step_retry_due_idx on workflow_step (next_attempt_at) where state = 'retry_scheduled';
create index workflow_step_deadline_idx on workflow_step (deadline_at) where state in ('dispatched', 'running');

-- Transactional outbox: rows are written in the transaction that changes state and deleted once
-- the broker has confirmed them.
create table outbox (
    id               bigserial primary key,
    exchange         text        not null,
    routing_key      text        not null,
    event_id         uuid        not null,
    event_type       text        not null,
    workflow_id      uuid,
    payload          jsonb       not null,
    trace_headers    jsonb       not null default '{}'::jsonb,
    created_at       timestamptz not null default now(),
    publish_attempts int         not null default 0,
    next_attempt_at  timestamptz not null default now(),
    last_error       text
);

-- Consumers record every event id they handled, in the transaction that handled it.
create table processed_event (
    event_id     uuid primary key,
    processed_at timestamptz not null default now()
);

create index processed_event_age_idx on processed_event (processed_at);
