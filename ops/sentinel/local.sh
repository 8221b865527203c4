#!/usr/bin/env bash
# Starts (or stops) a master + 2 replicas + 3 sentinels as local processes:
#   ops/sentinel/local.sh start [--real-sentinels]   # --real-sentinels: Debian's redis-sentinel instead of ours
#   ops/sentinel/local.sh status | stop
# Ports: data nodes BASE..BASE+2, sentinels BASE+100..BASE+102 (BASE=7000 by default); everything (configs,
# data, logs, pids) under RUN_DIR (default /tmp/inferdb-sentinel). Needs `npm run build` first.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BASE="${BASE:-7000}"
RUN_DIR="${RUN_DIR:-/tmp/inferdb-sentinel}"
MAIN="$ROOT/dist/main.js"
NAME="${MASTER_NAME:-mymaster}"

start() {
  local real=0
  [ "${1:-}" = "--real-sentinels" ] && real=1
  [ -f "$MAIN" ] || { echo "build first: npm run build" >&2; exit 1; }
  mkdir -p "$RUN_DIR"
  for i in 0 1 2; do
    local port=$((BASE + i)) dir="$RUN_DIR/node-$((BASE + i))"
    mkdir -p "$dir"
    local extra=()
    # the replicas: priority 99 and 98 (the lower one is promoted first)
    [ "$i" -gt 0 ] && extra=(--replicaof "127.0.0.1 $BASE" --replica-priority $((100 - i)))
    node "$MAIN" --port "$port" --bind 127.0.0.1 --dir "$dir" "${extra[@]}" >"$RUN_DIR/node-$port.log" 2>&1 &
    echo $! >"$RUN_DIR/node-$port.pid"
  done
  for i in 0 1 2; do
    local port=$((BASE + 100 + i)) conf="$RUN_DIR/sentinel-$((BASE + 100 + i)).conf"
    if [ ! -f "$conf" ]; then
      cat >"$conf" <<EOC
port $port
bind 127.0.0.1
dir $RUN_DIR
sentinel monitor $NAME 127.0.0.1 $BASE 2
sentinel down-after-milliseconds $NAME 1000
sentinel failover-timeout $NAME 3000
sentinel parallel-syncs $NAME 1
EOC
    fi
    if [ "$real" = 1 ]; then
      redis-sentinel "$conf" >"$RUN_DIR/sentinel-$port.log" 2>&1 &
    else
      node "$MAIN" --sentinel "$conf" >"$RUN_DIR/sentinel-$port.log" 2>&1 &
    fi
    echo $! >"$RUN_DIR/sentinel-$port.pid"
  done
  echo "data nodes: 127.0.0.1:$BASE (master) $((BASE + 1)) $((BASE + 2)); sentinels: $((BASE + 100)) $((BASE + 101)) $((BASE + 102)); files in $RUN_DIR"
}

stop() {
  shopt -s nullglob
  for f in "$RUN_DIR"/*.pid; do
    kill "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
}

status() {
  for i in 0 1 2; do
    printf 'node %s: %s\n' $((BASE + i)) "$(redis-cli -p $((BASE + i)) info replication 2>/dev/null | tr -d '\r' | grep -E '^(role|master_port|connected_slaves):' | tr '\n' ' ' || echo down)"
  done
  for i in 0 1 2; do
    printf 'sentinel %s: master at %s\n' $((BASE + 100 + i)) "$(redis-cli -p $((BASE + 100 + i)) sentinel get-master-addr-by-name "$NAME" 2>/dev/null | tr '\n' ' ' || echo down)"
  done
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start [--real-sentinels] | status | stop" >&2; exit 2 ;;
esac
