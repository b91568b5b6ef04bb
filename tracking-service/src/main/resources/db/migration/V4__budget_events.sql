-- Budget threshold crossings (BudgetThresholdCrossed from llm-gateway-service), one row per event:
-- the event id is derived from (budget, period, threshold), so a replica that announces the same
-- crossing again, or a redelivery, hits the primary key and changes nothing. Few rows (at most
-- three per budget and period), hence not partitioned.
create table budget_event (
    event_id           uuid           primary key,
    occurred_at        timestamptz    not null,
    workflow_id        uuid,
    budget_id          uuid           not null,
    scope              text           not null,
    scope_key          text           not null,
    period             text           not null,
    period_start       timestamptz    not null,
    threshold_percent  integer        not null,
    limit_usd          numeric        not null,
    spent_usd          numeric        not null,
    hard               boolean        not null,
    recorded_at        timestamptz    not null default now(),
    constraint budget_event_scope_ck check (scope in ('global', 'team', 'workflow')),
    constraint budget_event_threshold_ck check (threshold_percent in (50, 80, 100))
);

-- Newest-first pages (keyset on occurred_at, event_id), alone or per scope/key or workflow.
create index budget_event_time_idx on budget_event (occurred_at, event_id);
create index budget_event_scope_idx on budget_event (scope, scope_key, occurred_at, event_id);
create index budget_event_workflow_idx on budget_event (workflow_id, occurred_at, event_id)
    where workflow_id is not null;
