#!/usr/bin/env bash
# Gives the test suite a clean slate on a machine that has run other work before: drops the databases the tests
# use (atelier_*_test, atelier_*_workertest, atelier_*_systest) and recreates the RabbitMQ test virtual hosts
# (atelier-test-*), so no schema migrated by another branch and no durable queue declared with other arguments
# is left behind. Never touches the running suite's databases (atelier_<service>) or its vhost (atelier).
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
log() { printf '[reset-test-state] %s\n' "$*"; }
# Debian's rabbitmqctl refuses every user but root and rabbitmq ("Only root or rabbitmq should run rabbitmqctl").
rabbitmqctl() { $SUDO "$(type -P rabbitmqctl || echo /usr/sbin/rabbitmqctl)" "$@"; }

PSQL=(psql -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -Atq)
for db in $("${PSQL[@]}" -c "select datname from pg_database where datname ~ '^atelier_[a-z]+_(test|workertest|systest)$'"); do
  log "dropping database $db"
  "${PSQL[@]}" -c "drop database \"$db\" with (force)"
done

for vhost in $(rabbitmqctl -q list_vhosts 2>/dev/null | grep -E '^atelier-test-' || true); do
  log "recreating RabbitMQ virtual host $vhost"
  rabbitmqctl -q delete_vhost "$vhost" >/dev/null
  rabbitmqctl -q add_vhost "$vhost" >/dev/null
  rabbitmqctl -q set_permissions -p "$vhost" guest '.*' '.*' '.*' >/dev/null
done
