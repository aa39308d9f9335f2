#!/usr/bin/env bash
# Starts services/schema-registry (Confluent-compatible REST subset over the compacted topic `_schemas`)
# against the brokers in MERIDIAN_KAFKA_BROKERS; waits until GET /subjects answers 200; prints its URL.
# Its register/config routes need MERIDIAN_SCHEMA_REGISTRY_TOKEN(_FILE), generated into $STATE when unset.
# Exit code 3 (nothing printed) when the service is not in this checkout yet.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

SDIR="$STATE/schema-registry"
MAIN="services/schema-registry/src/main.ts"
BROKERS="${MERIDIAN_KAFKA_BROKERS:?set MERIDIAN_KAFKA_BROKERS to the Kafka the registry uses}"
mkdir -p "$SDIR"

if pid="$(live_pid "$SDIR/pid" schema-registry/src/main.ts)" && [ "$(cat "$SDIR/brokers" 2>/dev/null)" = "$BROKERS" ] &&
  probe http "$(cat "$SDIR/url")/subjects" 3000 >/dev/null; then
  log "schema-registry: reusing pid $pid at $(cat "$SDIR/url")"
  cat "$SDIR/url"
  exit 0
fi
[ -n "${pid:-}" ] && stop_group "$pid"
rm -f "$SDIR/pid" "$SDIR/url" "$SDIR/brokers"

if [ ! -f "$ROOT/$MAIN" ]; then
  log "schema-registry: SKIPPED — $MAIN does not exist yet; tests that need a registry will fail"
  exit 3
fi

# Registering schemas needs a bearer token; without one given, a random one in a private file that
# up.sh hands to the clients (MERIDIAN_SCHEMA_REGISTRY_TOKEN_FILE in infra/.state/env).
if [ -z "${MERIDIAN_SCHEMA_REGISTRY_TOKEN:-}" ] && [ -z "${MERIDIAN_SCHEMA_REGISTRY_TOKEN_FILE:-}" ]; then
  export MERIDIAN_SCHEMA_REGISTRY_TOKEN_FILE="$SDIR/token"
  [ -s "$SDIR/token" ] || (umask 077 && head -c 32 /dev/urandom | base64 | tr -d '\n/+=' >"$SDIR/token")
fi

read -r PORT < <(probe free-ports "${SCHEMA_REGISTRY_PORT:-8081}")
: >"$SDIR/registry.log"
pid="$(cd "$ROOT" && start_detached "$SDIR/registry.log" \
  env MERIDIAN_KAFKA_BROKERS="$BROKERS" SCHEMA_REGISTRY_PORT="$PORT" "$ROOT/node_modules/.bin/tsx" "$MAIN")"
echo "$pid" >"$SDIR/pid"
echo "$BROKERS" >"$SDIR/brokers"
echo "http://127.0.0.1:$PORT" >"$SDIR/url"
log "schema-registry: started pid $pid on 127.0.0.1:$PORT (kafka $BROKERS), log $SDIR/registry.log"
wait_ready "$pid" 60 http "http://127.0.0.1:$PORT/subjects" || {
  tail -n 30 "$SDIR/registry.log" >&2
  stop_group "$pid"
  rm -f "$SDIR/pid" "$SDIR/url" "$SDIR/brokers"
  die "schema-registry: GET /subjects did not answer 200 within 60s"
}
log "schema-registry: GET /subjects answers 200"
echo "http://127.0.0.1:$PORT"
