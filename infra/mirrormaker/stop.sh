#!/usr/bin/env bash
# Stops the MirrorMaker 2 started by infra/mirrormaker/start.sh (by its pid).
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

MDIR="$STATE/mirrormaker"
if pid="$(live_pid "$MDIR/pid" connect.mirror.MirrorMaker)"; then
  log "mirrormaker: stopping pid $pid"
  stop_group "$pid" 30
else
  log "mirrormaker: not running"
fi
rm -f "$MDIR/pid"
