#!/usr/bin/env bash
# Stops the private redis-server started by infra/redis/start.sh; never the machine's own.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

RDIR="$STATE/redis"
stop_started redis "$RDIR/pid" redis-server 20
rm -f "$RDIR/url"
