#!/usr/bin/env bash
# Stops the schema registry started by infra/schema-registry/start.sh.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

SDIR="$STATE/schema-registry"
if pid="$(live_pid "$SDIR/pid" schema-registry/src/main.ts)"; then
  log "schema-registry: stopping pid $pid"
  stop_group "$pid" 10
fi
rm -f "$SDIR/pid" "$SDIR/url" "$SDIR/brokers"
