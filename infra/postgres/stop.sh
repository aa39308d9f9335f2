#!/usr/bin/env bash
# Stops the private PostgreSQL cluster started by infra/postgres/start.sh; never the machine's own.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

PDIR="$STATE/postgres"
if [ -f "$PDIR/data/postmaster.pid" ] && [ -f "$PDIR/bin" ]; then
  as_pg=()
  [ "$(id -u)" = 0 ] && as_pg=(runuser -u postgres --)
  log "postgres: stopping private cluster (pid $(head -n 1 "$PDIR/data/postmaster.pid"))"
  "${as_pg[@]}" "$(cat "$PDIR/bin")/pg_ctl" -D "$PDIR/data" stop -m fast -w -t 30 >&2 || true
fi
rm -f "$PDIR/url"
