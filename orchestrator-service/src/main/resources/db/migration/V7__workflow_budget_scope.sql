-- Which budget stopped a budget_exceeded workflow: 'workflow' (its own, at the gateway or by its
-- recorded spend), 'team' or 'global' (the gateway's), null when the worker did not say. A retry
-- asks for a raised workflow budget only when the workflow's own budget stopped it.
alter table workflow add column budget_scope text;
