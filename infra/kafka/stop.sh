#!/usr/bin/env bash
# Stops the broker started by infra/kafka/start.sh (by its pid); never touches other brokers.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

KDIR="$STATE/kafka"
if pid="$(live_pid "$KDIR/pid" kafka.Kafka)"; then
  log "kafka: stopping pid $pid"
  stop_group "$pid" 30
else
  log "kafka: no broker started by infra/ is running"
fi
rm -f "$KDIR/pid" "$KDIR/brokers"
