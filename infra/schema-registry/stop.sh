#!/usr/bin/env bash
# Stops the schema registry started by infra/schema-registry/start.sh.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

SDIR="$STATE/schema-registry"
stop_started schema-registry "$SDIR/pid" schema-registry/src/main.ts 10
rm -f "$SDIR/url" "$SDIR/brokers"
