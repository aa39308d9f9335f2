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

if [ -n "${MERIDIAN_KAFKA_BROKERS:-}" ]; then
  probe kafka "$MERIDIAN_KAFKA_BROKERS" 15000 >&2 ||
    die "MERIDIAN_KAFKA_BROKERS=$MERIDIAN_KAFKA_BROKERS is set but does not answer (unset it to let infra/up.sh start a broker)"
  KAFKA="$MERIDIAN_KAFKA_BROKERS"
else
  KAFKA="$(bash "$ROOT/infra/kafka/start.sh" 9>&-)"
fi

if [ -n "${MERIDIAN_REDIS_URL:-}" ]; then
  probe redis "$MERIDIAN_REDIS_URL" 10000 >&2 ||
    die "MERIDIAN_REDIS_URL=$MERIDIAN_REDIS_URL is set but does not answer (unset it to let infra/up.sh find or start Redis)"
  REDIS="$MERIDIAN_REDIS_URL"
else
  REDIS="$(bash "$ROOT/infra/redis/start.sh" 9>&-)"
fi

if [ -n "${MERIDIAN_PG_URL:-}" ]; then
  probe pg "$MERIDIAN_PG_URL" 10000 >&2 ||
    die "MERIDIAN_PG_URL=$MERIDIAN_PG_URL is set but does not answer (unset it to let infra/up.sh find or start PostgreSQL)"
  PG="$MERIDIAN_PG_URL"
else
  PG="$(bash "$ROOT/infra/postgres/start.sh" 9>&-)"
fi

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
