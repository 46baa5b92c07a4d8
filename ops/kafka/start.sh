#!/usr/bin/env bash
# Starts a single-node Apache Kafka 3.9 broker+controller (KRaft) on 127.0.0.1 for tests and
# local tries, waits until it answers, prints its bootstrap address. Stop it with stop.sh.
#   ops/kafka/start.sh [PORT] [--keep]   (default 19092; data in ops/kafka/data, logs in ops/kafka/data/broker.log)
# Without --keep the data directory is wiped first (a fresh, empty broker: topics are gone).
# A second broker (PORT and PORT+1 free) needs its own data directory: KAFKA_DATA_DIR=DIR
# (then stop it with KAFKA_DATA_DIR=DIR ops/kafka/stop.sh); unset, ops/kafka/data.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
keep=0
args=()
for a in "$@"; do if [ "$a" = "--keep" ]; then keep=1; else args+=("$a"); fi; done
port=${args[0]:-19092}
cport=$((port + 1))
command -v java >/dev/null || { echo "kafka: java not found" >&2; exit 3; }
if [ ! -d "$here/target/libs" ] || [ -z "$(ls "$here/target/libs" 2>/dev/null)" ]; then
  command -v mvn >/dev/null || { echo "kafka: mvn not found (needed once to fetch the broker jars)" >&2; exit 3; }
  echo "kafka: fetching broker jars with maven (once)..."
  (cd "$here" && mvn -q dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=target/libs)
fi
data=${KAFKA_DATA_DIR:-$here/data}
fresh=1
if [ "$keep" = 1 ] && [ -f "$data/logs/meta.properties" ]; then fresh=0; else rm -rf "$data" && mkdir -p "$data/logs"; fi
cat > "$data/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$data/logs
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPS
cat > "$data/log4j.properties" <<'L4J'
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=${kafka.logs.dir}/broker.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
L4J
cp="$here/target/libs/*"
jopts=(-Xmx512m -Dkafka.logs.dir="$data" -Dlog4j.configuration="file:$data/log4j.properties")
[ "$fresh" = 1 ] && java "${jopts[@]}" -cp "$cp" kafka.tools.StorageTool format -t "$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null)" -c "$data/server.properties" >/dev/null
nohup java "${jopts[@]}" -cp "$cp" kafka.Kafka "$data/server.properties" >"$data/stdout.log" 2>&1 &
echo $! > "$data/broker.pid"
for i in $(seq 60); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "kafka: broker up at 127.0.0.1:$port (pid $(cat "$data/broker.pid"))"; exit 0; fi
  kill -0 "$(cat "$data/broker.pid")" 2>/dev/null || { echo "kafka: broker exited; see $data/stdout.log" >&2; tail -20 "$data/stdout.log" >&2; exit 1; }
  sleep 1
done
echo "kafka: broker did not answer on 127.0.0.1:$port within 60 s" >&2
exit 1
