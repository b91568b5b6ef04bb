-- V5 gave the agent and model indexes a trailing event_id so a filtered first page could be read
-- in full keyset order. Measured, the planner reads those pages through the time index or sorts
-- the few rows of equal occurred_at incrementally, never needing the third column, which cost 16
-- bytes per row per index. Back to (label id, occurred_at).
drop index llm_call_agent_idx;
create index llm_call_agent_idx on llm_call (agent, occurred_at);
drop index llm_call_model_idx;
create index llm_call_model_idx on llm_call ((coalesce(response_model, request_model)), occurred_at);
