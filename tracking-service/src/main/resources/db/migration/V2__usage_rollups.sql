-- Usage rollups, maintained at ingest in the same transaction as the raw insert and only for rows
-- actually inserted (never for duplicates), so they always equal the sums of the raw rows they
-- cover. Usage reports that need no percentile read these instead of scanning millions of rows.
--
-- One row per hour x team x workflow x agent x provider x model, and per day x team x agent x
-- provider x model: the daily table leaves workflow_id null because a workflow lasts minutes, so
-- keying days by workflow would make it nearly as big as the hourly one; per-workflow figures come
-- from the hourly table. "model" is the model that
-- answered, else the one asked for (the same expression the raw queries use). The key columns are
-- nullable (a call need not have a team or workflow), hence "nulls not distinct" (PostgreSQL 15+):
-- otherwise "on conflict" would never match a key with a null in it and would add a row per batch.
--
-- Contention: each consumer adds its batch's sums with one "insert ... on conflict do update" whose
-- keys are sorted the same way in every consumer, so two consumers lock shared rows in the same
-- order and cannot deadlock; a conflict costs a short row-lock wait, not a retry.
--
-- Retention drops raw partitions only; rollups are small (a few rows per hour) and keep the long
-- history.
create table llm_usage_hourly (
    bucket                 timestamptz not null,
    team                   text,
    workflow_id            uuid,
    agent                  text,
    provider               text        not null,
    model                  text,
    calls                  bigint      not null,
    errors                 bigint      not null,
    input_tokens           bigint      not null,
    cached_input_tokens    bigint      not null,
    output_tokens          bigint      not null,
    reasoning_tokens       bigint      not null,
    -- exact sum of the known costs; null while no call of the group had a price
    cost_usd               numeric,
    unknown_cost_calls     bigint      not null,
    latency_ms_sum         bigint      not null,
    constraint llm_usage_hourly_key unique nulls not distinct
        (bucket, team, workflow_id, agent, provider, model)
);

create table llm_usage_daily (like llm_usage_hourly including defaults);
alter table llm_usage_daily add constraint llm_usage_daily_key unique nulls not distinct
    (bucket, team, workflow_id, agent, provider, model);

-- Reports filtered by one dimension over a time range.
create index llm_usage_hourly_workflow_idx on llm_usage_hourly (workflow_id, bucket);
create index llm_usage_daily_team_idx on llm_usage_daily (team, bucket);
create index llm_usage_daily_model_idx on llm_usage_daily (model, bucket);
