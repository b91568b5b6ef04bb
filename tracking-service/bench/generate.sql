-- Generates :rows ledger rows spread evenly over the 90 days before :end (UTC), in chunks of
-- :chunk rows, then fills the rollups from them (as ingest would have). Run by ledger-bench.sh.
-- Shape: 40 calls per workflow (consecutive, so a workflow spans minutes), 8 steps/agents (5 calls
-- each, one model per agent and workflow), 20 teams, 3 providers, 6 models, 2% errors, 3% unknown
-- cost, 30% streamed with a TTFT. Event and workflow ids are time-ordered UUIDs (version 7: the
-- call's time, the workflow's first call's time), as the gateway and orchestrator make them; step
-- ids are UUIDs (one per step run); the other text dimensions are label ids (migrations V5, V7).
\set ON_ERROR_STOP on
\timing on
select set_config('bench.end', :'end', false);
select format('create table if not exists llm_call_p%s partition of llm_call for values from (%L) to (%L)',
              to_char(m, 'YYYY_MM'), m, m + interval '1 month')
from generate_series(date_trunc('month', (:'end'::timestamptz - interval '90 days') at time zone 'UTC'),
                     date_trunc('month', :'end'::timestamptz at time zone 'UTC'), interval '1 month') as g(m0),
     lateral (select (m0 at time zone 'UTC') as m) x
\gexec

-- The ledger stores its text dimensions as label ids (V5): create the labels this data uses, then
-- pass each dimension's ids to the generator as an array.
insert into label (value)
select v from unnest(array['atelier.llm.call.recorded.v1', 'chat', 'upstream_timeout', 'provider', '2025-01',
    'openai', 'anthropic', 'simulated',
    'business-analyst','architect','developer','reviewer','tester','devops','writer','planner',
    'gpt-4o','gpt-4o-mini','claude-sonnet','claude-haiku','llama-3.1-8b','mistral-large',
    'gpt-4o-2025','gpt-4o-mini-2025','claude-sonnet-2025','claude-haiku-2025','llama-3.1-8b-2025','mistral-large-2025']
    || array(select 'team-' || g from generate_series(0, 19) g)) as v
on conflict (value) do nothing;
create function pg_temp.ids(text[]) returns text language sql as
  $f$ select array(select l.id from unnest($1) with ordinality u(v, o) join label l on l.value = u.v order by o)::text $f$;
select pg_temp.ids(array['atelier.llm.call.recorded.v1', 'chat', 'upstream_timeout', 'provider', '2025-01']) as fixed_ids,
       pg_temp.ids(array['business-analyst','architect','developer','reviewer','tester','devops','writer','planner']) as agent_ids,
       pg_temp.ids(array(select 'team-' || g from generate_series(0, 19) g)) as team_ids,
       pg_temp.ids(array['gpt-4o','gpt-4o-mini','claude-sonnet','claude-haiku','llama-3.1-8b','mistral-large']) as model_ids,
       pg_temp.ids(array['gpt-4o-2025','gpt-4o-mini-2025','claude-sonnet-2025','claude-haiku-2025','llama-3.1-8b-2025','mistral-large-2025']) as response_ids,
       pg_temp.ids(array['openai','openai','anthropic','anthropic','simulated','simulated']) as provider_ids
\gset

select format($$
insert into llm_call (event_id, workflow_id, occurred_at, started_at, input_tokens, cached_input_tokens,
    output_tokens, reasoning_tokens, latency_ms, time_to_first_token_ms, event_type, operation, provider,
    step_id, agent, team, request_model, response_model, error_code, usage_source, price_version,
    fallback_path, failed, streamed, simulated, cost_usd, conversation_id, trace_id, span_id)
select (lpad(to_hex((extract(epoch from t) * 1000)::bigint), 12, '0') || '7' || substr(md5(i::text), 1, 3)
           || to_hex(8 + i %% 4) || substr(md5(i::text), 4, 15))::uuid,
       (lpad(to_hex((extract(epoch from tw) * 1000)::bigint), 12, '0') || '7' || substr(md5('wf' || (i / 40)), 1, 3)
           || '8' || substr(md5('wf' || (i / 40)), 4, 15))::uuid, t, t - make_interval(secs => lat / 1000.0),
       inp, (i * 31) %% 500, outp, (i %% 7) * 10, lat,
       case when i %% 10 < 3 then 20 + (i * 613) %% 1500 end,
       fx[1], fx[2], (%4$L::int[])[1 + mi], md5('step' || (i / 5))::uuid::text, (%6$L::int[])[1 + (i / 5) %% 8],
       (%7$L::int[])[1 + (i / 40) %% 20], (%8$L::int[])[1 + mi],
       case when i %% 50 = 0 then null else (%9$L::int[])[1 + mi] end,
       case when i %% 50 = 0 then fx[3] end, fx[4], case when i %% 33 = 0 then null else fx[5] end, null,
       i %% 50 = 0, i %% 10 < 3, i %% 3 = 2,
       case when i %% 33 = 0 then null else (inp * 0.000000150 + outp * 0.000000600)::numeric(30,18) end,
       'conv-' || (i / 5), md5(i::text), substr(md5('s' || i), 1, 16)
from generate_series(%1$s::bigint, %2$s::bigint) as g(i),
     lateral (select (current_setting('bench.end')::timestamptz - interval '90 days')
                     + (i::float8 / %3$s) * interval '90 days' as t,
                     (current_setting('bench.end')::timestamptz - interval '90 days')
                     + ((i / 40 * 40)::float8 / %3$s) * interval '90 days' as tw,
                     (i / 5 + i / 40) %% 6 as mi,
                     100 + (i * 7919) %% 8000 as inp,
                     20 + (i * 104729) %% 3000 as outp,
                     50 + (i * 7717) %% 9000 as lat,
                     %10$L::int[] as fx) x
$$, s, least(s + :chunk - 1, :rows), :rows, :'provider_ids', null, :'agent_ids', :'team_ids',
   :'model_ids', :'response_ids', :'fixed_ids')
from generate_series(1, :rows, :chunk) as s
\gexec

-- Rollups, as ingest maintains them.
insert into llm_usage_hourly
select g.bucket, lt.value, g.workflow_id, la.value, lp.value, lm.value, g.calls, g.errors, g.i, g.c, g.o,
       g.r, g.cost, g.unknown, g.latency
from (select date_trunc('hour', occurred_at at time zone 'UTC') at time zone 'UTC' as bucket, team,
             workflow_id, agent, provider, coalesce(response_model, request_model) as model, count(*) as calls,
             count(*) filter (where failed) as errors, sum(input_tokens) as i, sum(cached_input_tokens) as c,
             sum(output_tokens) as o, sum(reasoning_tokens) as r, sum(cost_usd) as cost,
             count(*) filter (where cost_usd is null) as unknown, sum(latency_ms) as latency
      from llm_call group by 1, 2, 3, 4, 5, 6) g
left join label lt on lt.id = g.team left join label la on la.id = g.agent
left join label lp on lp.id = g.provider left join label lm on lm.id = g.model;
insert into llm_usage_daily
select date_trunc('day', bucket at time zone 'UTC') at time zone 'UTC', team, null::uuid, agent, provider,
       model, sum(calls), sum(errors), sum(input_tokens), sum(cached_input_tokens), sum(output_tokens),
       sum(reasoning_tokens), sum(cost_usd), sum(unknown_cost_calls), sum(latency_ms_sum)
from llm_usage_hourly group by 1, 2, 3, 4, 5, 6;
vacuum analyze llm_call;
analyze llm_usage_hourly;
analyze llm_usage_daily;
