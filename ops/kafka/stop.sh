#!/usr/bin/env bash
# Stops the broker started by start.sh (SIGTERM, then SIGKILL after 20 s); the one whose data
# directory is KAFKA_DATA_DIR when set (as given to start.sh), else ops/kafka/data's.
here=$(cd "$(dirname "$0")" && pwd)
pidf="${KAFKA_DATA_DIR:-$here/data}/broker.pid"
[ -f "$pidf" ] || { echo "kafka: no broker pid file"; exit 0; }
pid=$(cat "$pidf")
kill "$pid" 2>/dev/null || { rm -f "$pidf"; exit 0; }
for i in $(seq 20); do kill -0 "$pid" 2>/dev/null || { rm -f "$pidf"; echo "kafka: stopped"; exit 0; }; sleep 1; done
kill -9 "$pid" 2>/dev/null; rm -f "$pidf"; echo "kafka: killed"
