-- The team whose calls declared a workflow's budget (X-Atelier-Workflow-Budget-Usd). Only that team's
-- calls may change the budget or spend from it: another team's key naming the workflow is refused,
-- so it can neither lower a workflow's budget to stop it nor charge its calls to it. Null on budgets
-- no caller has declared yet (an admin's, and those from before this column): the first team to
-- declare one takes it.
alter table budget add column team text;
