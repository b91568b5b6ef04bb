-- A workflow stopped by its budget ends in its own status, budget_exceeded (retryable with a
-- raised budget), instead of failed.
alter table workflow drop constraint workflow_status_check;
alter table workflow add constraint workflow_status_check
    check (status in ('running', 'waiting_approval', 'completed', 'failed', 'cancelled',
                      'budget_exceeded'));
