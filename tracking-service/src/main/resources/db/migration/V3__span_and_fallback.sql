-- LlmCallRecorded gained spanId (the gateway's chat/embeddings span, so a ledger row links to its
-- exact span in the trace) and fallbackPath (the deployments tried in order when more than one
-- was). Both nullable: older records have neither. Adding a nullable column without a default is a
-- catalog change only, on every partition at once; no row is rewritten.
alter table llm_call add column span_id text, add column fallback_path text;
