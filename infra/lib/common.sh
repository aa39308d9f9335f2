# Shared helpers for the infra scripts (sourced, not run).
# State of servers started by these scripts lives in $STATE (ignored by git).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${MERIDIAN_INFRA_STATE:-$ROOT/infra/.state}"
mkdir -p "$STATE"

log() { echo "[infra] $*" >&2; }
die() {
  echo "[infra] ERROR: $*" >&2
  exit 1
}

probe() { node "$ROOT/infra/lib/probe.mjs" "$@"; }

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# Pid stored in a pid file, when that process still runs and its command line contains $2
# (a pid file left from before a reboot may name an unrelated process now: never signal that one).
live_pid() {
  local file="$1" expect="$2" pid
  [ -f "$file" ] || return 1
  pid="$(cat "$file")"
  pid_alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$expect" || return 1
  echo "$pid"
}

# Start a command detached in its own session (own process group: stopping it also stops its children,
# e.g. tsx's node child) with all output in a log file; prints the pid (= process group id).
start_detached() {
  local logfile="$1"
  shift
  # 9>&-: the up/down lock (fd 9) must not be inherited by a long-lived server.
  setsid "$@" </dev/null >>"$logfile" 2>&1 9>&- &
  echo $!
}

# Stop a process group started by start_detached: TERM, wait up to $2 seconds, then KILL.
stop_group() {
  local pid="$1" wait_s="${2:-20}" i
  pid_alive "$pid" || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < wait_s * 10; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  log "pid $pid did not stop in ${wait_s}s; killing it"
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
}

# The stop.sh of a server these scripts started: stops the process group named by its pid file (only
# when that pid still runs the expected command), then removes the pid file.
# Usage: stop_started <name> <pid file> <command line contains> <wait seconds> [message when not running]
stop_started() {
  local name="$1" pidfile="$2" expect="$3" wait_s="$4" absent="${5:-}" pid
  if pid="$(live_pid "$pidfile" "$expect")"; then
    log "$name: stopping pid $pid"
    stop_group "$pid" "$wait_s"
  elif [ -n "$absent" ]; then
    log "$name: $absent"
  fi
  rm -f "$pidfile"
}

require_node_modules() {
  [ -d "$ROOT/node_modules/kafkajs" ] || die "node_modules missing: run 'pnpm install' first (the probes use kafkajs, ioredis, pg)"
}

# Installs Debian packages (root, or passwordless sudo); used only when a server binary is missing.
apt_install() {
  local sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo -n)
  command -v apt-get >/dev/null || die "apt-get not found: install $* yourself or point MERIDIAN_* at your own servers"
  log "installing Debian packages: $*"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y -q "$@" >&2 ||
    { "${sudo[@]}" apt-get update -q >&2 && "${sudo[@]}" apt-get install -y -q "$@" >&2; } ||
    die "could not install $*"
}

# MERIDIAN_INFRA_PRIVATE=1 starts private Redis/PostgreSQL even when the machine's own servers answer.
use_machine_servers() { [ "${MERIDIAN_INFRA_PRIVATE:-0}" != 1 ]; }

# Waits until `probe <kind> <target>` succeeds; gives up early when the server's process has died.
# Usage: wait_ready <pid> <seconds> <kind> <target>
wait_ready() {
  local pid="$1" seconds="$2" kind="$3" target="$4" deadline
  deadline=$(($(date +%s) + seconds))
  while :; do
    probe "$kind" "$target" 2000 >&2 2>/dev/null && return 0
    pid_alive "$pid" || {
      log "$kind: process $pid exited before answering"
      return 1
    }
    [ "$(date +%s)" -lt "$deadline" ] || return 1
  done
}

# Resolves the runtime jars of a Maven pom into a folder once; re-resolves when the pom changed since
# (the folder's .complete holds the pom's checksum, so a version bump never runs stale jars).
# Usage: resolve_jars <pom> <libs dir> <mvn log file>
resolve_jars() {
  local pom="$1" libs="$2" mvnlog="$3" sum
  sum="$(sha256sum "$pom" | cut -d' ' -f1)"
  [ "$(cat "$libs/.complete" 2>/dev/null)" = "$sum" ] && return 0
  command -v java >/dev/null || apt_install default-jre-headless
  command -v mvn >/dev/null || apt_install maven
  log "resolving $(basename "$(dirname "$pom")") jars from Maven Central (once per pom version)"
  rm -rf "$libs"
  mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$libs" >"$mvnlog" 2>&1 || {
    cat "$mvnlog" >&2
    die "mvn could not resolve the jars of $pom (see above)"
  }
  echo "$sum" >"$libs/.complete"
}

# Log4j 2 configuration for Kafka 4 JVMs (broker, MirrorMaker 2): INFO to stdout, chatty loggers at WARN.
write_log4j2() {
  cat >"$1" <<'PROPS'
status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.requests.name = kafka.request.logger
logger.requests.level = WARN
logger.clients.name = org.apache.kafka.clients
logger.clients.level = WARN
PROPS
}
