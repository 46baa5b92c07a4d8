#!/usr/bin/env bash
# Starts a Redis Cluster of 3 masters + 3 replicas (Debian's redis-server 7) on 127.0.0.1 for tests,
# benchmarks and local tries of the Redis row store (rows.store=redis), waits until every node says
# cluster_state:ok, prints the nodes (rows.redis.nodes). Stop it with stop.sh.
#   ops/redis/start.sh [BASE_PORT]   (default 17000: nodes on BASE_PORT..BASE_PORT+5, cluster bus +10000)
# Idempotent: a cluster of this data directory that is up and ok is left as it is (exit 0); anything
# else of it (a node down, a half-made cluster) is stopped and made afresh, empty.
# Data (nodes.conf, logs, pid files; no RDB/AOF: the rows live in memory only) in ops/redis/data, or
# REDIS_DATA_DIR=DIR (then stop it with REDIS_DATA_DIR=DIR ops/redis/stop.sh). A second cluster needs
# its own BASE_PORT and data directory. REDIS_NODE_TIMEOUT_MS (default 2000): how long a master may be
# silent before its replica takes over (cluster-node-timeout; failover in about 2-3 times that).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
case "${1:-}" in -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
base=${1:-17000}
[[ "$base" =~ ^[0-9]+$ ]] && [ "$base" -ge 1024 ] && [ "$base" -le 55529 ] ||
  { echo "redis: BASE_PORT must be a number in 1024..55529 (its nodes' bus ports are +10000)" >&2; exit 2; }
for tool in redis-server redis-cli; do
  command -v "$tool" >/dev/null || { echo "redis: $tool not found (Debian: apt-get install -y redis-server)" >&2; exit 3; }
done
data=${REDIS_DATA_DIR:-$here/data}
timeout_ms=${REDIS_NODE_TIMEOUT_MS:-2000}
ports=$(seq "$base" $((base + 5)))
nodes=$(for p in $ports; do printf '127.0.0.1:%s ' "$p"; done)

# true when every node of this data directory answers, says cluster_state:ok and sees 3 replicas
cluster_ok() {
  for p in $ports; do
    [ -f "$data/$p/redis.pid" ] || return 1
    redis-cli -p "$p" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
    [ "$(redis-cli -p "$p" cluster nodes 2>/dev/null | awk '$3 ~ /slave/ && $3 !~ /fail/' | wc -l)" = 3 ] || return 1
  done
}
if [ -f "$data/base_port" ] && [ "$(cat "$data/base_port")" = "$base" ] && cluster_ok; then
  echo "redis: cluster already up at ${nodes% }"
  exit 0
fi
REDIS_DATA_DIR="$data" "$here/stop.sh" >/dev/null # this directory's nodes only (its pid files)
for p in $ports; do
  if redis-cli -p "$p" ping >/dev/null 2>&1; then
    echo "redis: port $p is taken by a Redis that is not of $data (another data directory's cluster? stop it" \
      "with REDIS_DATA_DIR=DIR ops/redis/stop.sh), or choose another BASE_PORT" >&2
    exit 1
  fi
done
rm -rf "$data" && mkdir -p "$data"
echo "$base" >"$data/base_port"
for p in $ports; do
  mkdir -p "$data/$p"
  redis-server --port "$p" --bind 127.0.0.1 --dir "$data/$p" --daemonize yes \
    --pidfile "$data/$p/redis.pid" --logfile "$data/$p/redis.log" \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout "$timeout_ms" \
    --save '' --appendonly no --protected-mode yes
done
for p in $ports; do
  for i in $(seq 50); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -p "$p" ping >/dev/null 2>&1 || { echo "redis: node $p did not start; see $data/$p/redis.log" >&2; exit 1; }
done
# shellcheck disable=SC2086 # one argument per node
redis-cli --cluster create $nodes --cluster-replicas 1 --cluster-yes >"$data/create.log" 2>&1 ||
  { echo "redis: cluster create failed; see $data/create.log" >&2; tail -5 "$data/create.log" >&2; exit 1; }
for i in $(seq 100); do
  if cluster_ok; then echo "redis: cluster up at ${nodes% } (3 masters + 3 replicas, data in $data)"; exit 0; fi
  sleep 0.2
done
echo "redis: cluster not ok within 20 s; see $data/*/redis.log" >&2
exit 1
