#!/usr/bin/env bash
# Starts Kafka MirrorMaker 2 (dedicated mode) between one Kafka cluster per region, from jars resolved by
# infra/mirrormaker/pom.xml. Each region's cluster holds the origin topic of its own updates,
# <ns.>meridian.<region>.updates; MM2 copies it to every other region's cluster as the remote topic
# <region>.<ns.>meridian.<region>.updates (DefaultReplicationPolicy), which that region's invalidation
# consumer reads. Only origin topics are replicated (one flow per pair, one topic each): no copy of a copy.
#   MERIDIAN_MM2_CLUSTERS="us-east=127.0.0.1:9092,eu-west=127.0.0.1:9192"  (required: region=bootstrap, …)
#   MERIDIAN_NAMESPACE   the namespace of the topics (optional)
#   MERIDIAN_MM2_HEAP    max JVM heap (default 384m)
# Waits until MirrorMaker reports started; state (config, log, pid) in $STATE/mirrormaker.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

MDIR="$STATE/mirrormaker"
LIBS="$ROOT/infra/mirrormaker/libs"
mkdir -p "$MDIR"
[ -n "${MERIDIAN_MM2_CLUSTERS:-}" ] || die "mirrormaker: set MERIDIAN_MM2_CLUSTERS=region=host:port,region=host:port"

if pid="$(live_pid "$MDIR/pid" connect.mirror.MirrorMaker)"; then
  log "mirrormaker: stopping the earlier instance (pid $pid) to start with the current clusters"
  stop_group "$pid" 30
fi

resolve_jars "$ROOT/infra/mirrormaker/pom.xml" "$LIBS" "$MDIR/mvn.log"

# Topic name of a region's updates, as a Java regex (dots escaped).
prefix="${MERIDIAN_NAMESPACE:+${MERIDIAN_NAMESPACE}.}"
updates_regex() { printf '%s' "${prefix}meridian.$1.updates" | sed 's/\./\\\\./g'; }

aliases=()
{
  echo "# Written by infra/mirrormaker/start.sh at $(date -u +%FT%TZ)"
  IFS=',' read -r -a entries <<<"$MERIDIAN_MM2_CLUSTERS"
  for e in "${entries[@]}"; do
    alias="${e%%=*}"
    [ -n "$alias" ] && [ "$alias" != "$e" ] || die "mirrormaker: bad MERIDIAN_MM2_CLUSTERS entry '$e' (want region=host:port)"
    aliases+=("$alias")
    echo "$alias.bootstrap.servers = ${e#*=}"
    # Short fetch waits: replication latency is the point of this bridge.
    echo "$alias.consumer.fetch.max.wait.ms = 50"
    echo "$alias.producer.linger.ms = 5"
    # Connect workers find their plugins through ServiceLoader manifests (a reflection scan takes ~10 s).
    echo "$alias.plugin.discovery = service_load"
  done
  echo "clusters = $(IFS=','; echo "${aliases[*]}")"
  for src in "${aliases[@]}"; do
    for dst in "${aliases[@]}"; do
      [ "$src" = "$dst" ] && continue
      echo "$src->$dst.enabled = true"
      echo "$src->$dst.topics = $(updates_regex "$src")"
    done
  done
  cat <<'PROPS'
tasks.max = 1
# One broker per cluster in the tests: every internal topic has one replica.
replication.factor = 1
checkpoints.topic.replication.factor = 1
heartbeats.topic.replication.factor = 1
offset-syncs.topic.replication.factor = 1
offset.storage.replication.factor = 1
status.storage.replication.factor = 1
config.storage.replication.factor = 1
# New origin topics are found within 2 s; consumer offsets are Meridian's own business (not translated).
refresh.topics.interval.seconds = 2
emit.checkpoints.enabled = false
sync.group.offsets.enabled = false
sync.topic.acls.enabled = false
plugin.discovery = service_load
PROPS
} >"$MDIR/mm2.properties"
write_log4j2 "$MDIR/log4j2.properties"

HEAP="${MERIDIAN_MM2_HEAP:-384m}"
: >"$MDIR/mirrormaker.log"
pid="$(start_detached "$MDIR/mirrormaker.log" java -Xms64m "-Xmx$HEAP" -XX:+UseSerialGC -Djava.awt.headless=true \
  "-Dlog4j2.configurationFile=$MDIR/log4j2.properties" -cp "$LIBS/*" \
  org.apache.kafka.connect.mirror.MirrorMaker "$MDIR/mm2.properties")"
echo "$pid" >"$MDIR/pid"
log "mirrormaker: started pid $pid for ${aliases[*]} (log $MDIR/mirrormaker.log)"

deadline=$(($(date +%s) + 120))
until grep -q "Kafka MirrorMaker started" "$MDIR/mirrormaker.log"; do
  pid_alive "$pid" || {
    tail -n 40 "$MDIR/mirrormaker.log" >&2
    die "mirrormaker: exited before it started"
  }
  [ "$(date +%s)" -lt "$deadline" ] || {
    tail -n 40 "$MDIR/mirrormaker.log" >&2
    stop_group "$pid"
    die "mirrormaker: not started in 120 s"
  }
  sleep 0.5
done
log "mirrormaker: started"
