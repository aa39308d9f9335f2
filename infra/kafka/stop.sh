#!/usr/bin/env bash
# Stops the broker started by infra/kafka/start.sh (by its pid); never touches other brokers.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

KDIR="$STATE/kafka"
stop_started kafka "$KDIR/pid" kafka.Kafka 30 "no broker started by infra/ is running"
rm -f "$KDIR/brokers"
