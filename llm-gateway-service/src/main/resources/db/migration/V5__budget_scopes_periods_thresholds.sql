-- Budgets get a global scope and a period (total, UTC day, UTC month). What a budget has spent and
-- reserved now lives per period in budget_spend, keyed by (budget, period start): a new day or month
-- starts with a row that does not exist yet, created by the first reservation of that period, so
-- no job has to reset counters at midnight (and none can race the calls).
alter table budget drop constraint budget_scope_check;
alter table budget add constraint budget_scope_check check (scope in ('global', 'team', 'workflow'));
alter table budget add column period text not null default 'total'
    check (period in ('total', 'day', 'month'));
alter table budget add constraint budget_workflow_total check (scope <> 'workflow' or period = 'total');
alter table budget drop constraint budget_scope_scope_key_key;
alter table budget add constraint budget_scope_key_period unique (scope, scope_key, period);

-- period_start of a 'total' budget is the epoch.
create table budget_spend (
    budget_id    uuid            not null references budget (id) on delete cascade,
    period_start timestamptz     not null,
    spent_usd    numeric(24, 12) not null default 0,
    reserved_usd numeric(24, 12) not null default 0,
    primary key (budget_id, period_start)
);

insert into budget_spend (budget_id, period_start, spent_usd, reserved_usd)
select id, timestamptz '1970-01-01 00:00:00+00', spent_usd, reserved_usd from budget;

alter table budget drop column spent_usd;
alter table budget drop column reserved_usd;

-- A reservation is settled (or expires) in the period it was made in, even after midnight.
alter table budget_reservation add column period_start timestamptz not null
    default timestamptz '1970-01-01 00:00:00+00';
alter table budget_reservation alter column period_start drop default;

-- Each (budget, period, threshold) crossing is recorded once, in the transaction that settled the
-- spend that crossed it; its BudgetThresholdCrossed event goes out through the outbox below.
create table budget_threshold (
    budget_id    uuid        not null references budget (id) on delete cascade,
    period_start timestamptz not null,
    percent      integer     not null check (percent in (50, 80, 100)),
    spent_usd    numeric(24, 12) not null,
    crossed_at   timestamptz not null default now(),
    primary key (budget_id, period_start, percent)
);

-- The record spool becomes the gateway's outbox for any event: LLM-call records the broker did not
-- confirm, and budget threshold events (written with the settlement, published by the same drainer).
alter table pending_call_record add column exchange text not null default 'atelier.llm-calls';
alter table pending_call_record add column routing_key text not null default 'llm.call';
alter table pending_call_record add column event_type text not null
    default 'atelier.llm.call.recorded.v1';
