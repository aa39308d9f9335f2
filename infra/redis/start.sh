#!/usr/bin/env bash
# Prints a Redis URL: the machine's server on 127.0.0.1:6379 when it answers, else a private
# redis-server (installed from Debian's packages if missing) on a free port under infra/.state/redis.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

RDIR="$STATE/redis"
MACHINE_URL="redis://127.0.0.1:6379"
mkdir -p "$RDIR"

if pid="$(live_pid "$RDIR/pid" redis-server)" && probe redis "$(cat "$RDIR/url")" 3000 >/dev/null; then
  log "redis: reusing private server pid $pid at $(cat "$RDIR/url")"
  cat "$RDIR/url"
  exit 0
fi
[ -n "${pid:-}" ] && stop_group "$pid"
rm -f "$RDIR/pid" "$RDIR/url"

if use_machine_servers && probe redis "$MACHINE_URL" 0 >/dev/null 2>&1; then
  log "redis: using the machine's server at $MACHINE_URL"
  echo "$MACHINE_URL"
  exit 0
fi

command -v redis-server >/dev/null || apt_install redis-server
read -r PORT < <(probe free-ports "${MERIDIAN_REDIS_PORT:-6380}")
# No persistence: a test cache, thrown away on stop.
pid="$(start_detached "$RDIR/redis.log" redis-server --bind 127.0.0.1 --port "$PORT" --dir "$RDIR" \
  --save "" --appendonly no --databases 16 --daemonize no)"
echo "$pid" >"$RDIR/pid"
echo "redis://127.0.0.1:$PORT" >"$RDIR/url"
log "redis: started private server pid $pid on 127.0.0.1:$PORT"
wait_ready "$pid" 20 redis "redis://127.0.0.1:$PORT" || {
  tail -n 20 "$RDIR/redis.log" >&2
  die "redis: private server did not answer"
}
echo "redis://127.0.0.1:$PORT"
