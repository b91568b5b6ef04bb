#!/usr/bin/env bash
# What a gateway replica's budget cache re-reads every gateway.budgets.refresh-interval (5 s), as the number of
# workflows that declared a budget (X-Atelier-Workflow-Budget-Usd) grows: one budget row each, never deleted.
#   all         the query before gateway V6: every budget with its current spend (rows = every workflow ever budgeted)
#   admin-set   the query since V6: the budgets an admin set (global, teams, capped workflows; index budget_admin_set)
# The gateway's migrations V1..V6 are applied to a scratch database (atelier_budget_cache_bench, dropped at the end),
# then 50 team budgets, 5 admin-capped workflows and WORKFLOWS caller-declared workflow budgets with a spend row each
# are inserted. Each query runs ROUNDS times through psql; the median milliseconds and the rows it returns are printed.
#
#   deploy/bench/budget-cache-bench.sh             # WORKFLOWS=100000 ROUNDS=7
set -euo pipefail
cd "$(dirname "$0")/../.."
WORKFLOWS=${WORKFLOWS:-100000}
ROUNDS=${ROUNDS:-7}
DB=atelier_budget_cache_bench
export PGOPTIONS=--client-min-messages=warning
PSQL=(psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -q -X)
trap '"${PSQL[@]}" -d postgres -c "drop database if exists $DB" >/dev/null 2>&1 || true' EXIT

"${PSQL[@]}" -d postgres -c "drop database if exists $DB" -c "create database $DB"
for m in $(ls llm-gateway-service/src/main/resources/db/migration/V*.sql | sort -V); do
  "${PSQL[@]}" -d "$DB" -f "$m" >/dev/null
done
"${PSQL[@]}" -d "$DB" -v workflows="$WORKFLOWS" <<'SQL'
insert into budget (scope, scope_key, period, limit_usd, set_by)
select 'team', 'team-' || i, 'month', 100, 'admin' from generate_series(1, 50) i;
insert into budget (scope, scope_key, period, limit_usd, set_by)
select 'workflow', gen_random_uuid()::text, 'total', 1, 'admin' from generate_series(1, 5);
insert into budget (scope, scope_key, period, limit_usd, set_by)
select 'workflow', gen_random_uuid()::text, 'total', 2.5, 'caller' from generate_series(1, :workflows);
insert into budget_spend (budget_id, period_start, spent_usd)
select id, case period when 'month' then date_trunc('month', now()) else timestamptz '1970-01-01 00:00:00+00' end, 0.01
from budget;
vacuum analyze;
SQL

# The gateway's query (BudgetRepository.WITH_SPEND), with and without V6's filter.
with_spend="select b.id, b.scope, b.scope_key, b.period, b.limit_usd, b.hard, b.updated_at, b.set_by,
  coalesce(s.spent_usd, 0), coalesce(s.reserved_usd, 0) from budget b
  left join budget_spend s on s.budget_id = b.id and s.period_start =
  case b.period when 'day' then date_trunc('day', now()) when 'month' then date_trunc('month', now())
  else timestamptz '1970-01-01 00:00:00+00' end"
measure() { # NAME SQL
  local times=() rows
  for _ in $(seq "$ROUNDS"); do
    times+=("$("${PSQL[@]}" -d "$DB" -At -c "explain (analyze, timing off, summary on, format json) $2" \
      | python3 -c 'import json,sys; p=json.load(sys.stdin)[0]; print(p["Execution Time"] + p["Planning Time"], p["Plan"]["Actual Rows"])')")
  done
  printf '%s\n' "${times[@]}" | python3 -c '
import statistics, sys
rows = [l.split() for l in sys.stdin if l.strip()]
print("%-10s %9.2f ms (median of %d)  %7d rows" % (sys.argv[1], statistics.median(float(r[0]) for r in rows), len(rows), int(rows[0][1])))' "$1"
}
echo "budget cache re-read with $WORKFLOWS caller-declared workflow budgets ($(date -u +%FT%TZ), $(nproc) cores):"
measure all "$with_spend order by b.scope, b.scope_key, b.period"
measure admin-set "$with_spend where b.set_by = 'admin' order by b.scope, b.scope_key, b.period"
