#!/usr/bin/env bash
# Ensures PostgreSQL and RabbitMQ run on this machine (installing them from Debian's packages when missing) and
# that the RabbitMQ virtual hosts Atelier uses exist: "atelier" for the running suite, "atelier-test-*" for tests,
# so a running suite and a test run never see each other's messages. Idempotent; safe to run at every start.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

log() { printf '[infra] %s\n' "$*"; }
# Debian's rabbitmqctl refuses every user but root and rabbitmq ("Only root or rabbitmq should run rabbitmqctl").
rabbitmqctl() { $SUDO "$(type -P rabbitmqctl || echo /usr/sbin/rabbitmqctl)" "$@"; }

ensure_postgres() {
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    log "PostgreSQL is not installed; installing it with apt-get"
    $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    log "starting PostgreSQL $version"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  pg_isready -q -h 127.0.0.1 -p 5432 || { log "PostgreSQL did not start"; exit 1; }
  # Services connect over TCP as "postgres"; make sure that works without a password on a fresh install.
  if ! psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
    log "configuring trust authentication for local TCP connections"
    local hba
    hba=$(ls /etc/postgresql/*/main/pg_hba.conf | sort -V | tail -n 1)
    $SUDO sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main reload
  fi
}

rabbit_up() { rabbitmqctl -q status >/dev/null 2>&1; }

ensure_rabbitmq() {
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    log "RabbitMQ is not installed; installing it with apt-get"
    $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
  fi
  if ! rabbit_up; then
    log "starting RabbitMQ"
    $SUDO rabbitmq-server -detached || true
    for _ in $(seq 1 60); do rabbit_up && break; sleep 1; done
  fi
  rabbit_up || { log "RabbitMQ did not start"; exit 1; }
  rabbitmqctl -q await_startup >/dev/null 2>&1 || true
  local vhosts
  vhosts=$(rabbitmqctl -q list_vhosts 2>/dev/null || true)
  for vhost in atelier atelier-test-orchestrator atelier-test-worker atelier-test-gateway atelier-test-tracking \
      atelier-test-context atelier-test-kit atelier-test-system; do
    if ! grep -qx "$vhost" <<<"$vhosts"; then
      log "creating RabbitMQ virtual host $vhost"
      rabbitmqctl -q add_vhost "$vhost" >/dev/null
    fi
    rabbitmqctl -q set_permissions -p "$vhost" guest '.*' '.*' '.*' >/dev/null
  done
}

ensure_postgres
ensure_rabbitmq
log "PostgreSQL and RabbitMQ are ready"
