#!/usr/bin/env bash
# Stops the private redis-server started by infra/redis/start.sh; never the machine's own.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

RDIR="$STATE/redis"
if pid="$(live_pid "$RDIR/pid" redis-server)"; then
  log "redis: stopping private server pid $pid"
  stop_group "$pid"
fi
rm -f "$RDIR/pid" "$RDIR/url"
