#!/usr/bin/env bash
# Stops the Redis Cluster nodes started by start.sh: those of ops/redis/data, or of REDIS_DATA_DIR when
# set (as given to start.sh). Only the pids of its own pid files, and only while such a pid is still a
# redis-server of that data directory's port (SIGTERM, then SIGKILL after 10 s). Keeps the data
# directory (start.sh wipes it). Exit 0 also when nothing runs.
here=$(cd "$(dirname "$0")" && pwd)
case "${1:-}" in -h | --help) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
data=${REDIS_DATA_DIR:-$here/data}
# the pids of this directory's nodes that are alive and still ours (a redis-server on that port)
ours() {
  for f in "$data"/*/redis.pid; do
    local pid port
    pid=$(cat "$f" 2>/dev/null) port=$(basename "$(dirname "$f")")
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "redis-server.*:$port\b"; then echo "$pid"; fi
  done
}
pids=$(ours)
[ -n "$pids" ] || { echo "redis: no node running (data $data)"; exit 0; }
# shellcheck disable=SC2086
kill $pids 2>/dev/null
for i in $(seq 50); do
  left=$(for pid in $pids; do kill -0 "$pid" 2>/dev/null && echo "$pid"; done) # redis removes its pid file before it exits
  [ -z "$left" ] && { echo "redis: stopped $(echo $pids | wc -w) node(s)"; exit 0; }
  sleep 0.2
done
# shellcheck disable=SC2086
kill -9 $left 2>/dev/null
echo "redis: killed $(echo $left | wc -w) node(s) that did not stop"
