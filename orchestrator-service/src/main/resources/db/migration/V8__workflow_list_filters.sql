-- The workflow list filters by team and by definition (GET /api/v1/workflows?team=&definition=), newest
-- first. Without these, a filter that matches few workflows (or none: a team name mistyped) walks the
-- whole created_at index and the rows behind it before it can answer, a cost that grows with history.
-- Both columns never change, so the indexes cost a write only when a workflow is inserted or changes
-- status (an update that is not HOT anyway, because of workflow_status_created_idx).
create index workflow_team_created_idx on workflow (team, created_at desc, id desc);
create index workflow_definition_created_idx on workflow (definition_name, created_at desc, id desc);
