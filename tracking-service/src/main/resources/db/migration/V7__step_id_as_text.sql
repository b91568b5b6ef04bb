-- V5 put step_id into the label dictionary, but the gateway's step id is the orchestrator's step
-- UUID: one value per step run, not a low-cardinality name. As a label it would grow the
-- dictionary and the service's cache by one entry every few calls. Back to plain text.
alter table llm_call rename column step_id to step_label;
alter table llm_call add column step_id text;
update llm_call set step_id = l.value from label l where l.id = llm_call.step_label;
alter table llm_call drop column step_label;
