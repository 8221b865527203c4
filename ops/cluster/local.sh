#!/usr/bin/env bash
# Starts (or stops) an inferdb cluster of local processes, joined by the real `redis-cli --cluster create`:
#   ops/cluster/local.sh start  [--masters N] [--replicas M] [--base-port P] [--node-timeout MS] [--fresh]
#   ops/cluster/local.sh status [--base-port P]
#   ops/cluster/local.sh stop   [--base-port P]
# Defaults: 3 masters with 1 replica each on ports 7000-7005 (cluster bus on port + 10000), node timeout 2000 ms.
# Everything (data dirs with nodes.conf, logs, pid files, the topology) lives under RUN_DIR (default
# /tmp/inferdb-cluster-<base port>), printed by `start`. A second `start` on a folder whose nodes all have a
# nodes.conf restarts that cluster instead of creating a new one; `--fresh` wipes the folder first.
# Needs `npm run build` first and redis-cli (Debian's redis-tools) on PATH.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
MAIN="$ROOT/dist/main.js"
MASTERS=3
REPLICAS=1
BASE=7000
NODE_TIMEOUT=2000
FRESH=0
CMD="${1:-}"
[ $# -gt 0 ] && shift
while [ $# -gt 0 ]; do
  case "$1" in
    --masters) MASTERS="$2"; shift 2 ;;
    --replicas) REPLICAS="$2"; shift 2 ;;
    --base-port) BASE="$2"; shift 2 ;;
    --node-timeout) NODE_TIMEOUT="$2"; shift 2 ;;
    --fresh) FRESH=1; shift ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
RUN_DIR="${RUN_DIR:-/tmp/inferdb-cluster-$BASE}"
WAIT_S="${WAIT_S:-30}"

log() { echo "[cluster $(date +%H:%M:%S)] $*"; }
die() { echo "[cluster] error: $*" >&2; exit 1; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ping() { [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ]; }

# the ports of the last start (status/stop use them), or the ones the options describe
ports() {
  if [ -f "$RUN_DIR/topology" ]; then
    sed -n 's/^ports=//p' "$RUN_DIR/topology"
  else
    local n=$((MASTERS * (REPLICAS + 1))) i
    for ((i = 0; i < n; i++)); do printf '%s ' $((BASE + i)); done
  fi
}

check_clean() { # $1: a port; clean = exit 0, all slots covered, no [ERR] or [WARNING], every replica attached
  local out
  out="$(redis-cli --cluster check "127.0.0.1:$1" 2>&1)" || return 1
  [ "$(grep -c '^ *replicates ' <<<"$out")" = $((MASTERS * REPLICAS)) ] || return 1
  grep -q '\[OK\] All 16384 slots covered' <<<"$out" || return 1
  ! grep -qE '\[(ERR|WARNING)\]' <<<"$out"
}

# removes only what this script writes (RUN_DIR may be a folder the caller made)
wipe() { [ -d "$RUN_DIR" ] && rm -rf "$RUN_DIR"/node-* "$RUN_DIR"/topology "$RUN_DIR"/create.log; return 0; }

start() {
  command -v redis-cli >/dev/null || die "redis-cli not found (apt-get install redis-tools)"
  [ -f "$MAIN" ] || die "build first: npm run build"
  [ "$MASTERS" -ge 3 ] || die "--masters must be at least 3 (redis-cli --cluster create needs 3 masters)"
  [ "$REPLICAS" -ge 0 ] || die "--replicas must be >= 0"
  local n=$((MASTERS * (REPLICAS + 1))) i port
  if [ -d "$RUN_DIR" ]; then
    for f in "$RUN_DIR"/node-*.pid; do
      [ -e "$f" ] || continue
      alive "$f" && die "already running (pid $(cat "$f") from $f); run: $0 stop --base-port $BASE"
      rm -f "$f"
    done
  fi
  [ "$FRESH" = 1 ] && wipe
  # a restart: the folder holds a topology whose nodes all have a nodes.conf; it keeps that topology
  local existing=0
  if [ -f "$RUN_DIR/topology" ]; then
    existing=1
    for port in $(sed -n 's/^ports=//p' "$RUN_DIR/topology"); do [ -f "$RUN_DIR/node-$port/nodes.conf" ] || existing=0; done
  fi
  if [ "$existing" = 1 ]; then
    MASTERS="$(sed -n 's/^masters=//p' "$RUN_DIR/topology")"; REPLICAS="$(sed -n 's/^replicas=//p' "$RUN_DIR/topology")"
    BASE="$(sed -n 's/^base=//p' "$RUN_DIR/topology")"; n=$((MASTERS * (REPLICAS + 1)))
  else
    wipe
  fi
  local all=()
  for ((i = 0; i < n; i++)); do
    port=$((BASE + i))
    all+=("$port")
    port_open "$port" && die "port $port is in use"
    port_open $((port + 10000)) && die "cluster bus port $((port + 10000)) is in use"
  done
  mkdir -p "$RUN_DIR"
  printf 'masters=%s\nreplicas=%s\nbase=%s\nports=%s\n' "$MASTERS" "$REPLICAS" "$BASE" "${all[*]}" >"$RUN_DIR/topology"
  for port in "${all[@]}"; do
    mkdir -p "$RUN_DIR/node-$port"
    node "$MAIN" --port "$port" --bind 127.0.0.1 --dir "$RUN_DIR/node-$port" \
      --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout "$NODE_TIMEOUT" \
      --appendonly yes >"$RUN_DIR/node-$port.log" 2>&1 &
    echo $! >"$RUN_DIR/node-$port.pid"
  done
  local deadline=$((SECONDS + WAIT_S))
  for port in "${all[@]}"; do
    until ping "$port"; do
      alive "$RUN_DIR/node-$port.pid" || { tail -20 "$RUN_DIR/node-$port.log" >&2; stop >/dev/null; die "node $port exited"; }
      [ $SECONDS -lt $deadline ] || { stop >/dev/null; die "node $port did not answer PING within ${WAIT_S}s"; }
      sleep 0.1
    done
  done
  log "$n nodes up on ports ${all[0]}-${all[$((n - 1))]} (bus +10000); files in $RUN_DIR"
  if [ "$existing" = 0 ]; then
    local addrs=()
    for port in "${all[@]}"; do addrs+=("127.0.0.1:$port"); done
    log "redis-cli --cluster create ${addrs[*]} --cluster-replicas $REPLICAS --cluster-yes"
    redis-cli --cluster create "${addrs[@]}" --cluster-replicas "$REPLICAS" --cluster-yes >"$RUN_DIR/create.log" 2>&1 ||
      { cat "$RUN_DIR/create.log" >&2; stop >/dev/null; die "redis-cli --cluster create failed"; }
  else
    log "existing nodes.conf found: restarted the cluster (no create)"
  fi
  deadline=$((SECONDS + WAIT_S))
  until check_clean "${all[0]}" && for p in "${all[@]}"; do
    redis-cli -p "$p" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || exit 1
  done; do
    [ $SECONDS -lt $deadline ] || { redis-cli --cluster check "127.0.0.1:${all[0]}" >&2 || true; die "cluster not clean within ${WAIT_S}s (left running; $0 stop --base-port $BASE)"; }
    sleep 0.2
  done
  log "cluster ok: $MASTERS masters, $REPLICAS replica(s) each; redis-cli -c -p ${all[0]}"
  echo "RUN_DIR=$RUN_DIR"
}

stop() {
  [ -d "$RUN_DIR" ] || { log "nothing under $RUN_DIR"; return 0; }
  local f pids=()
  for f in "$RUN_DIR"/node-*.pid; do
    [ -e "$f" ] || continue
    alive "$f" && { kill "$(cat "$f")" 2>/dev/null || true; pids+=("$(cat "$f")"); }
  done
  local deadline=$((SECONDS + 10)) p
  for p in "${pids[@]}"; do
    while kill -0 "$p" 2>/dev/null; do
      [ $SECONDS -lt $deadline ] || { kill -9 "$p" 2>/dev/null || true; break; }
      sleep 0.1
    done
  done
  rm -f "$RUN_DIR"/node-*.pid
  log "stopped ${#pids[@]} node(s); data kept in $RUN_DIR"
}

status() {
  local p up=0 first=""
  for p in $(ports); do
    if ping "$p"; then
      up=$((up + 1)); [ -n "$first" ] || first=$p
      printf 'node %s: %s\n' "$p" "$(redis-cli -p "$p" cluster nodes 2>/dev/null | grep myself | awk '{sub("myself,","",$3); s=""; for(i=9;i<=NF;i++) s=s" "$i; print $3 s}')"
    else
      printf 'node %s: down\n' "$p"
    fi
  done
  [ -n "$first" ] || { echo "no node answers"; return 1; }
  redis-cli --cluster check "127.0.0.1:$first"
}

case "$CMD" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start [--masters N] [--replicas M] [--base-port P] [--node-timeout MS] [--fresh] | status [--base-port P] | stop [--base-port P]" >&2; exit 2 ;;
esac
