#!/usr/bin/env bash
# Brings up Kafka (KRaft), Redis, PostgreSQL and the schema registry for Meridian, then writes
# infra/.state/env (export lines with the four MERIDIAN_* addresses). Idempotent: servers that an
# earlier run started and that still answer are reused. A MERIDIAN_* variable already set means
# "use that server": it is checked, never started.
# MERIDIAN_INFRA_HOLDER=<pid> marks this use as belonging to a process (scripts/test.sh passes its pid);
# infra/down.sh stops the servers only when no other live holder remains.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
require_node_modules

# One up/down at a time per state folder (several engineers share one checkout).
exec 9>"$STATE/lock"
flock -w 300 9 || die "another infra/up.sh or down.sh holds $STATE/lock"

# Prints a server's address: the one in variable $1 when set (checked with `probe $2` within $3 ms, never
# started), else what infra/$4/start.sh finds or starts. $5 says what unsetting $1 would let up.sh do.
given_or_started() {
  local var="$1" kind="$2" timeout_ms="$3" component="$4" instead="$5" given="${!1:-}"
  if [ -n "$given" ]; then
    probe "$kind" "$given" "$timeout_ms" >&2 ||
      die "$var=$given is set but does not answer (unset it to let infra/up.sh $instead)"
    echo "$given"
  else
    bash "$ROOT/infra/$component/start.sh" 9>&-
  fi
}

KAFKA="$(given_or_started MERIDIAN_KAFKA_BROKERS kafka 15000 kafka "start a broker")"
REDIS="$(given_or_started MERIDIAN_REDIS_URL redis 10000 redis "find or start Redis")"
PG="$(given_or_started MERIDIAN_PG_URL pg 10000 postgres "find or start PostgreSQL")"

REGISTRY=""
if [ -n "${MERIDIAN_SCHEMA_REGISTRY_URL:-}" ]; then
  probe http "${MERIDIAN_SCHEMA_REGISTRY_URL%/}/subjects" 10000 >&2 ||
    die "MERIDIAN_SCHEMA_REGISTRY_URL=$MERIDIAN_SCHEMA_REGISTRY_URL is set but GET /subjects does not answer 200"
  REGISTRY="$MERIDIAN_SCHEMA_REGISTRY_URL"
else
  set +e
  REGISTRY="$(MERIDIAN_KAFKA_BROKERS="$KAFKA" bash "$ROOT/infra/schema-registry/start.sh" 9>&-)"
  rc=$?
  set -e
  [ "$rc" = 0 ] || [ "$rc" = 3 ] || die "schema registry failed to start"
fi

{
  echo "# Written by infra/up.sh at $(date -u +%FT%TZ). Load with: source infra/.state/env"
  echo "export MERIDIAN_KAFKA_BROKERS='$KAFKA'"
  echo "export MERIDIAN_REDIS_URL='$REDIS'"
  echo "export MERIDIAN_PG_URL='$PG'"
  if [ -n "$REGISTRY" ]; then
    echo "export MERIDIAN_SCHEMA_REGISTRY_URL='$REGISTRY'"
    # The token of the registry started here (an external one: set the variable yourself).
    if [ -z "${MERIDIAN_SCHEMA_REGISTRY_URL:-}" ] && [ -s "$STATE/schema-registry/token" ]; then
      echo "export MERIDIAN_SCHEMA_REGISTRY_TOKEN_FILE='$STATE/schema-registry/token'"
    fi
  else
    echo "# MERIDIAN_SCHEMA_REGISTRY_URL not set: services/schema-registry/src/main.ts is missing"
  fi
} >"$STATE/env.tmp"
mv "$STATE/env.tmp" "$STATE/env"

mkdir -p "$STATE/holders"
echo "${MERIDIAN_INFRA_HOLDER:-manual}" >"$STATE/holders/${MERIDIAN_INFRA_HOLDER:-manual}"

log "up: kafka $KAFKA | redis $REDIS | postgres $PG | schema registry ${REGISTRY:-(not started)}"
log "up: addresses in $STATE/env (source it, or let vitest's global setup load it)"
