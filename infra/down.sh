#!/usr/bin/env bash
# Stops what infra/up.sh started (never servers it only reused, like the machine's own Redis/PostgreSQL,
# nor anything named by a pre-set MERIDIAN_* variable). Servers stay up while another holder still uses
# them (another scripts/test.sh run, or a manual `pnpm infra:up`); `--force` stops them anyway.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

exec 9>"$STATE/lock"
flock -w 300 9 || die "another infra/up.sh or down.sh holds $STATE/lock"

HOLDERS="$STATE/holders"
mkdir -p "$HOLDERS"
rm -f "$HOLDERS/${MERIDIAN_INFRA_HOLDER:-manual}"
others=()
for f in "$HOLDERS"/*; do
  [ -e "$f" ] || continue
  name="$(basename "$f")"
  if [ "$name" = manual ] || pid_alive "$name"; then
    others+=("$name")
  else
    rm -f "$f" # a holder that died without calling down.sh
  fi
done
if [ "${#others[@]}" -gt 0 ] && [ "$FORCE" = 0 ]; then
  log "down: servers still used by: ${others[*]} — leaving them up (infra/down.sh --force stops them)"
  exit 0
fi

bash "$ROOT/infra/schema-registry/stop.sh" 9>&-
bash "$ROOT/infra/kafka/stop.sh" 9>&-
bash "$ROOT/infra/redis/stop.sh" 9>&-
bash "$ROOT/infra/postgres/stop.sh" 9>&-
rm -f "$STATE/env" "$HOLDERS"/*
log "down: done"
