-- Fills the latency and time-to-first-token histograms of daily rollup rows written before
-- migration V8 (null), from the raw ledger rows, so reports over those days get percentiles from the
-- rollup too. Optional, safe while the service ingests, and safe to rerun:
--
--   psql -h <host> -U <user> -d <tracking database> -v ON_ERROR_STOP=1 \
--        -f tracking-service/ops/backfill-daily-histograms.sql
--
-- A row is filled only while its call count still equals the raw rows counted here: if a late
-- record reaches the row during the backfill, PostgreSQL re-checks that condition on the new row
-- version, finds the counts differ and leaves the row null (its reports keep using the raw rows;
-- rerun to fill it). Rows whose raw partitions retention has dropped cannot be filled and stay
-- null. Buckets are the service's (LatencySketch): 0 for 0 ms, else ceil(ln(ms) / (ln(2) / 8)) + 1.
-- It reads every raw row of the days it fills: on 10 million rows, a few minutes.
\timing on
with todo as (
    select min(bucket) as first, max(bucket) + interval '1 day' as last
    from llm_usage_daily where latency_hist is null
),
raw as (
    select date_trunc('day', c.occurred_at at time zone 'UTC') at time zone 'UTC' as bucket,
           lt.value as team, la.value as agent, lp.value as provider, lm.value as model,
           c.latency_ms, c.time_to_first_token_ms
    from llm_call c
    cross join todo
    left join label lt on lt.id = c.team
    left join label la on la.id = c.agent
    left join label lp on lp.id = c.provider
    left join label lm on lm.id = coalesce(c.response_model, c.request_model)
    where c.occurred_at >= todo.first and c.occurred_at < todo.last
),
-- kind 0: latency, kind 1: time to first token (streamed calls that measured it).
counted as (
    select bucket, team, agent, provider, model, kind, b, count(*) as n
    from (select bucket, team, agent, provider, model, 0 as kind, latency_ms as ms from raw
          union all
          select bucket, team, agent, provider, model, 1, time_to_first_token_ms from raw
          where time_to_first_token_ms is not null) x,
         lateral (select case when ms <= 0 then 0
                              else ceil(ln(ms::float8) / (ln(2::float8) / 8))::int8 + 1 end as b) bk
    group by 1, 2, 3, 4, 5, 6, 7
),
h as (
    select bucket, team, agent, provider, model,
           sum(n) filter (where kind = 0) as calls,
           coalesce(array_agg((b << 32) | n order by b) filter (where kind = 0), '{}') as latency_hist,
           coalesce(array_agg((b << 32) | n order by b) filter (where kind = 1), '{}') as ttft_hist
    from counted
    group by 1, 2, 3, 4, 5
)
-- Keys may be null; coalesce to a character no label holds so the join can hash.
update llm_usage_daily d
set latency_hist = h.latency_hist, ttft_hist = h.ttft_hist
from h
where d.latency_hist is null
  and d.bucket = h.bucket
  and coalesce(d.team, E'\x01') = coalesce(h.team, E'\x01')
  and coalesce(d.agent, E'\x01') = coalesce(h.agent, E'\x01')
  and d.provider = h.provider
  and coalesce(d.model, E'\x01') = coalesce(h.model, E'\x01')
  and d.calls = h.calls;
select count(*) filter (where latency_hist is null) as daily_rows_still_without_histograms,
       count(*) as daily_rows
from llm_usage_daily;
