#!/usr/bin/env bash
# Stops the MirrorMaker 2 started by infra/mirrormaker/start.sh (by its pid).
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

MDIR="$STATE/mirrormaker"
stop_started mirrormaker "$MDIR/pid" connect.mirror.MirrorMaker 30 "not running"
