-- Generates :rows ledger rows spread evenly over the 90 days before :end (UTC), in chunks of
-- :chunk rows, then fills the rollups from them (as ingest would have). Run by ledger-bench.sh.
-- Shape: 40 calls per workflow (consecutive, so a workflow spans minutes), 8 steps/agents (5 calls
-- each, one model per agent and workflow), 20 teams, 3 providers, 6 models, 2% errors, 3% unknown
-- cost, 30% streamed with a TTFT.
\set ON_ERROR_STOP on
\timing on
select set_config('bench.end', :'end', false);
select format('create table if not exists llm_call_p%s partition of llm_call for values from (%L) to (%L)',
              to_char(m, 'YYYY_MM'), m, m + interval '1 month')
from generate_series(date_trunc('month', (:'end'::timestamptz - interval '90 days') at time zone 'UTC'),
                     date_trunc('month', :'end'::timestamptz at time zone 'UTC'), interval '1 month') as g(m0),
     lateral (select (m0 at time zone 'UTC') as m) x
\gexec

select format($$
insert into llm_call (event_id, occurred_at, event_type, workflow_id, step_id, agent, conversation_id,
    team, operation, provider, request_model, response_model, status, error_code, streamed,
    input_tokens, cached_input_tokens, output_tokens, reasoning_tokens, usage_source, cost_usd,
    price_version, started_at, latency_ms, time_to_first_token_ms, simulated, trace_id)
select gen_random_uuid(), t, 'atelier.llm.call.recorded.v1',
       md5('wf' || (i / 40))::uuid,
       'step-' || ((i / 5) %% 8),
       (array['business-analyst','architect','developer','reviewer','tester','devops','writer','planner'])[1 + (i / 5) %% 8],
       'conv-' || (i / 5),
       'team-' || ((i / 40) %% 20),
       'chat',
       p,
       m, case when i %% 50 = 0 then null else m || '-2025' end,
       case when i %% 50 = 0 then 'error' else 'ok' end,
       case when i %% 50 = 0 then 'upstream_timeout' end,
       i %% 10 < 3,
       100 + (i * 7919) %% 8000, (i * 31) %% 500, 20 + (i * 104729) %% 3000, (i %% 7) * 10,
       'provider',
       case when i %% 33 = 0 then null else ((100 + (i * 7919) %% 8000) * 0.000000150 + (20 + (i * 104729) %% 3000) * 0.000000600)::numeric(30,18) end,
       '2025-01',
       t - make_interval(secs => (50 + (i * 7717) %% 9000) / 1000.0),
       50 + (i * 7717) %% 9000,
       case when i %% 10 < 3 then 20 + (i * 613) %% 1500 end,
       i %% 3 = 2,
       md5(i::text)
from generate_series(%s::bigint, %s::bigint) as g(i),
     lateral (select (current_setting('bench.end')::timestamptz - interval '90 days')
                     + (i::float8 / %s) * interval '90 days' as t,
                     (array['gpt-4o','gpt-4o-mini','claude-sonnet','claude-haiku','llama-3.1-8b','mistral-large'])[1 + (i / 5 + i / 40) %% 6] as m,
                     (array['openai','openai','anthropic','anthropic','simulated','simulated'])[1 + (i / 5 + i / 40) %% 6] as p) x
$$, s, least(s + :chunk - 1, :rows), :rows)
from generate_series(1, :rows, :chunk) as s
\gexec

-- Rollups, as ingest maintains them.
insert into llm_usage_hourly
select date_trunc('hour', occurred_at at time zone 'UTC') at time zone 'UTC', team, workflow_id, agent,
       provider, coalesce(response_model, request_model), count(*),
       count(*) filter (where status = 'error'), sum(input_tokens), sum(cached_input_tokens),
       sum(output_tokens), sum(reasoning_tokens), sum(cost_usd), count(*) filter (where cost_usd is null),
       sum(latency_ms)
from llm_call group by 1, 2, 3, 4, 5, 6;
insert into llm_usage_daily
select date_trunc('day', bucket at time zone 'UTC') at time zone 'UTC', team, null::uuid, agent, provider,
       model, sum(calls), sum(errors), sum(input_tokens), sum(cached_input_tokens), sum(output_tokens),
       sum(reasoning_tokens), sum(cost_usd), sum(unknown_cost_calls), sum(latency_ms_sum)
from llm_usage_hourly group by 1, 2, 3, 4, 5, 6;
vacuum analyze llm_call;
analyze llm_usage_hourly;
analyze llm_usage_daily;
