#!/usr/bin/env bash
# What the artifact search document costs per write, with each way context-service has computed it:
#   v2        V2's expression: jsonb_to_tsvector over the whole content (unbounded: fails past 1 MB of lexemes)
#   v3-sql    V3's bounded text, artifact_search_text as a SQL function (not inlinable: planned per statement)
#   v4-plpgsql V4's same bounded text in PL/pgSQL (its plan kept per connection)
# Each statement inserts one step's two artifacts (a JSON document of ~3 KB and its ~3 KB Markdown), as the worker's
# batch write does, into a table with the generated column of that variant. pgbench, one client, prepared statements;
# the variants take turns (ROUNDS rounds of SECONDS s each), and the median statements/s of each is printed.
#
#   deploy/bench/search-text-bench.sh            # ROUNDS=5 SECONDS_PER_RUN=10
#
# Uses a scratch database (atelier_search_text_bench, dropped at the end) on the local PostgreSQL. The V3 and V4
# functions are read from context-service's migrations, so the benchmark measures what is deployed.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-5}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
DB=atelier_search_text_bench
PSQL=(psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -q -X)
work=$(mktemp -d)
trap 'rm -rf "$work"; "${PSQL[@]}" -d postgres -c "drop database if exists $DB" >/dev/null 2>&1 || true' EXIT

"${PSQL[@]}" -d postgres -c "drop database if exists $DB" -c "create database $DB"
# The two functions exactly as the migrations define them, renamed side by side.
MIGRATIONS=context-service/src/main/resources/db/migration
migration_function() { # FILE NAME: the migration's create function artifact_search_text ... $$; as NAME
  awk '/^create (or replace )?function artifact_search_text/ {p = 1} p {print} p && /^\$\$;/ {exit}' "$1" \
    | sed "s/artifact_search_text/$2/"
}
{ migration_function "$MIGRATIONS/V3__bounded_search_text.sql" search_text_sql
  migration_function "$MIGRATIONS/V4__search_text_plpgsql.sql" search_text_plpgsql; } > "$work/functions.sql"
grep -q 'function search_text_sql' "$work/functions.sql" && grep -q 'function search_text_plpgsql' "$work/functions.sql" \
  || { echo "the search-text functions were not found in $MIGRATIONS" >&2; exit 1; }
"${PSQL[@]}" -d "$DB" -f "$work/functions.sql"

"${PSQL[@]}" -d "$DB" <<'SQL'
-- A step's output as the simulated provider writes it: nested objects and arrays of sentences.
create table sample (json jsonb not null, md jsonb not null);
insert into sample
select jsonb_build_object(
         'summary', 'A to-do list service with due dates, reminders and shared lists for small teams.',
         'components', (select jsonb_agg(jsonb_build_object(
             'name', 'component-' || i,
             'responsibility', 'Keeps the reminders of list ' || i || ' in order and notifies the owners on time.',
             'interfaces', jsonb_build_array('REST /api/v1/lists/' || i, 'event list.changed.' || i),
             'risks', jsonb_build_array('clock skew between replicas', 'duplicate notifications')))
           from generate_series(1, 12) i),
         'verdict', 'approved', 'score', 8),
       to_jsonb((select string_agg('## Section ' || i || E'\n\nThe service keeps every list and its reminders; '
                                   || 'owners get a notification before the due date, once.' || E'\n', E'\n')
                 from generate_series(1, 24) i));

create table art_v2 (id bigserial primary key, name text not null, content jsonb not null,
  search_document tsvector generated always as (
    setweight(to_tsvector('english'::regconfig, name), 'A')
    || setweight(case when jsonb_typeof(content) = 'string'
                      then to_tsvector('english'::regconfig, content #>> '{}')
                      else jsonb_to_tsvector('english'::regconfig, content, '["string"]') end, 'B')) stored);
create table "art_v3-sql" (id bigserial primary key, name text not null, content jsonb not null,
  search_document tsvector generated always as (
    setweight(to_tsvector('english'::regconfig, name), 'A')
    || setweight(to_tsvector('english'::regconfig, coalesce(search_text_sql(content), '')), 'B')) stored);
create table "art_v4-plpgsql" (id bigserial primary key, name text not null, content jsonb not null,
  search_document tsvector generated always as (
    setweight(to_tsvector('english'::regconfig, name), 'A')
    || setweight(to_tsvector('english'::regconfig, coalesce(search_text_plpgsql(content), '')), 'B')) stored);
SQL

json=$("${PSQL[@]}" -d "$DB" -At -c "select json from sample")
md=$("${PSQL[@]}" -d "$DB" -At -c "select md from sample")
variants=(v2 v3-sql v4-plpgsql)
# The worker's batch: both artifacts in one statement (literals here: pgbench's \set cannot hold JSON).
for v in "${variants[@]}"; do
  cat > "$work/$v.sql" <<EOF
insert into "art_$v" (name, content) values ('architecture', cast('$(printf '%s' "$json" | sed "s/'/''/g")' as jsonb)), ('architecture.md', cast('$(printf '%s' "$md" | sed "s/'/''/g")' as jsonb));
EOF
done

declare -A results
for round in $(seq 1 "$ROUNDS"); do
  # Rotate the order each round so no variant always runs first.
  for k in 0 1 2; do
    v=${variants[$(( (k + round) % 3 ))]}
    tps=$(pgbench -h 127.0.0.1 -U postgres -n -M prepared -c 1 -T "$SECONDS_PER_RUN" -f "$work/$v.sql" "$DB" 2>/dev/null \
          | awk '/^tps/ {print $3; exit}')
    results[$v]="${results[$v]:-} $tps"
    echo "round $round $v: $tps statements/s"
  done
  "${PSQL[@]}" -d "$DB" -c 'truncate art_v2, "art_v3-sql", "art_v4-plpgsql"'
done

echo
echo "median statements/s (2 artifacts each) over $ROUNDS rounds of ${SECONDS_PER_RUN}s, $(nproc) cores, $(date -u +%FT%TZ):"
for v in "${variants[@]}"; do
  median=$(printf '%s\n' ${results[$v]} | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
  printf '  %-11s %8.1f   (%s)\n' "$v" "$median" "${results[$v]# }"
done
