#!/usr/bin/env bash
# Starts one Apache Kafka 4 broker (KRaft, combined broker+controller) on 127.0.0.1 from jars resolved
# by infra/kafka/pom.xml; waits until it answers metadata. Prints the bootstrap address on stdout.
# Reuses a broker that this script started earlier and that still answers.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

KDIR="$STATE/kafka"
LIBS="$ROOT/infra/kafka/libs"
mkdir -p "$KDIR"

if pid="$(live_pid "$KDIR/pid" kafka.Kafka)" && [ -f "$KDIR/brokers" ] && probe kafka "$(cat "$KDIR/brokers")" 5000 >/dev/null; then
  log "kafka: reusing broker pid $pid at $(cat "$KDIR/brokers")"
  cat "$KDIR/brokers"
  exit 0
fi
[ -n "${pid:-}" ] && stop_group "$pid"

resolve_jars "$ROOT/infra/kafka/pom.xml" "$LIBS" "$KDIR/mvn.log"

# Log dir is fresh each start: tests use unique topic names, nothing here must survive a restart.
write_config() {
  rm -rf "$KDIR/data"
  cat >"$KDIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:${CONTROLLER_PORT}
listeners=PLAINTEXT://127.0.0.1:${BROKER_PORT},CONTROLLER://127.0.0.1:${CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://127.0.0.1:${BROKER_PORT}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${KDIR}/data
# One broker: every replication factor and min ISR is 1.
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true
PROPS
  write_log4j2 "$KDIR/log4j2.properties"
}

# MERIDIAN_KAFKA_HEAP: max heap (tests that run several brokers give each a small one).
HEAP="${MERIDIAN_KAFKA_HEAP:-1g}"
JAVA_OPTS=(-Xms128m "-Xmx$HEAP" -XX:+UseG1GC -Djava.awt.headless=true "-Dlog4j2.configurationFile=$KDIR/log4j2.properties")

# Two attempts: a port found free can be taken by someone else before the broker binds it.
for attempt in 1 2; do
  # Defaults 9092/9093 when free (the machine may already run a broker there), else any free ports.
  read -r BROKER_PORT CONTROLLER_PORT < <(probe free-ports "${MERIDIAN_KAFKA_PORT:-9092}" "${MERIDIAN_KAFKA_CONTROLLER_PORT:-9093}")
  write_config
  # A leading "-" would read as an option to the storage tool (Kafka's own Uuid.randomUuid() skips those).
  CLUSTER_ID="$(node -e 'const { randomBytes } = require("node:crypto"); let id;
    do id = randomBytes(16).toString("base64url"); while (id.startsWith("-")); console.log(id)')"
  # Kafka 4 KRaft: a dynamic quorum; --standalone makes this node the single voter of a new cluster.
  java "${JAVA_OPTS[@]}" -cp "$LIBS/*" kafka.tools.StorageTool format --standalone -t "$CLUSTER_ID" \
    -c "$KDIR/server.properties" >"$KDIR/format.log" 2>&1 || {
    cat "$KDIR/format.log" >&2
    die "kafka: storage format failed"
  }

  : >"$KDIR/kafka.log"
  pid="$(start_detached "$KDIR/kafka.log" java "${JAVA_OPTS[@]}" -cp "$LIBS/*" kafka.Kafka "$KDIR/server.properties")"
  echo "$pid" >"$KDIR/pid"
  echo "127.0.0.1:${BROKER_PORT}" >"$KDIR/brokers"
  log "kafka: started pid $pid on 127.0.0.1:${BROKER_PORT} (controller ${CONTROLLER_PORT}), log $KDIR/kafka.log"

  if wait_ready "$pid" 90 kafka "127.0.0.1:${BROKER_PORT}"; then
    log "kafka: broker answers metadata at 127.0.0.1:${BROKER_PORT}"
    echo "127.0.0.1:${BROKER_PORT}"
    exit 0
  fi
  tail -n 40 "$KDIR/kafka.log" >&2
  stop_group "$pid"
  rm -f "$KDIR/pid" "$KDIR/brokers"
  log "kafka: attempt $attempt failed"
done
die "kafka: broker did not answer metadata (log $KDIR/kafka.log)"
