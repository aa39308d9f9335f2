#!/usr/bin/env bash
# Prints a PostgreSQL URL: the machine's server on 127.0.0.1:5432 (user postgres, trust) when it answers,
# else a private cluster (installed from Debian's packages if missing) on a free port under infra/.state.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

PDIR="$STATE/postgres"
MACHINE_URL="postgres://postgres@127.0.0.1:5432/postgres"
mkdir -p "$PDIR"

if [ -f "$PDIR/url" ] && [ -f "$PDIR/data/postmaster.pid" ] && probe pg "$(cat "$PDIR/url")" 3000 >/dev/null; then
  log "postgres: reusing private cluster at $(cat "$PDIR/url")"
  cat "$PDIR/url"
  exit 0
fi

if use_machine_servers && probe pg "$MACHINE_URL" 0 >/dev/null 2>&1; then
  log "postgres: using the machine's server at $MACHINE_URL"
  echo "$MACHINE_URL"
  exit 0
fi

pg_bin() { find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1; }
[ -n "$(pg_bin)" ] || apt_install postgresql
BIN="$(pg_bin)"
[ -x "$BIN/initdb" ] || die "postgres: initdb not found under /usr/lib/postgresql"

# PostgreSQL refuses to run as root: run it as the 'postgres' user that the Debian package creates.
as_pg=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PDIR" --shell /usr/sbin/nologin postgres
  as_pg=(runuser -u postgres --)
fi

"${as_pg[@]}" "$BIN/pg_ctl" -D "$PDIR/data" stop -m fast >/dev/null 2>&1 || true
rm -rf "$PDIR/data" "$PDIR/sock"
mkdir -p "$PDIR/data" "$PDIR/sock"
[ "$(id -u)" = 0 ] && chown -R postgres "$PDIR"
"${as_pg[@]}" "$BIN/initdb" -D "$PDIR/data" -U postgres --auth=trust -E UTF8 --no-sync >"$PDIR/initdb.log" 2>&1 || {
  cat "$PDIR/initdb.log" >&2
  die "postgres: initdb failed"
}
read -r PORT < <(probe free-ports "${MERIDIAN_PG_PORT:-5433}")
# fsync off: a throw-away test database, speed matters more than crash safety.
"${as_pg[@]}" "$BIN/pg_ctl" -D "$PDIR/data" -l "$PDIR/postgres.log" -w -t 60 start \
  -o "-p $PORT -k $PDIR/sock -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" >&2 ||
  die "postgres: pg_ctl start failed (log $PDIR/postgres.log)"
echo "$BIN" >"$PDIR/bin"
echo "postgres://postgres@127.0.0.1:$PORT/postgres" >"$PDIR/url"
log "postgres: started private cluster on 127.0.0.1:$PORT (data $PDIR/data)"
probe pg "$(cat "$PDIR/url")" 30000 >&2 || die "postgres: private cluster did not answer"
cat "$PDIR/url"
