-- Who set a budget: an admin, through the admin API, or a caller, declaring its workflow's budget
-- in X-Atelier-Workflow-Budget-Usd. Every replica keeps the keys of the admin-set budgets in memory,
-- re-read every few seconds, to tell without a database round trip whether a call needs a
-- reservation. A caller-declared budget needs no such entry (the header that declares it comes with
-- every call it applies to), and there is one per budgeted workflow, a number that only grows.
-- Budgets that exist before this migration stay 'admin': which of them came from the header is not
-- recorded, and an entry too many only costs a call a reservation query.
alter table budget add column set_by text not null default 'admin'
    check (set_by in ('admin', 'caller'));

create index budget_admin_set on budget (scope, scope_key, period) where set_by = 'admin';
