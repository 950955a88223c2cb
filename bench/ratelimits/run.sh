#!/usr/bin/env bash
# Rate-limit benchmark, loopback only: one FuncGateway server, one echo upstream, Azurite behind a counting proxy.
# Three routes of the same shape are loaded in alternation within one run:
#   free    no rate limit
#   fast    a fast-mode fixed-window limit high enough never to refuse (Global partition: the hottest key there is)
#   strict  the same limit in strict mode, on one counter row (Shards=1): every admission is a conditional write
# and reports, per contender, the median throughput, the gateway's CPU time per request, the table operations per
# request (counted by the proxy), refusals, and the ratios against "free". Stops everything it started.
#
#   bash bench/ratelimits/run.sh [--rounds N] [--seconds S] [--warmup S] [--connections C]
set -euo pipefail

ROUNDS=3
SECONDS_PER_RUN=10
WARMUP=3
CONNECTIONS=32
die() { echo "run.sh: $*" >&2; exit 1; }
while (( $# > 0 )); do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) die "unknown option '$1'" ;;
  esac
done

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
unset ASPNETCORE_URLS AzureWebJobsStorage
while read -r name; do unset "$name"; done < <(compgen -e | grep -E '^FuncGateway(__|:)' || true)
command -v wrk >/dev/null || die "wrk is needed (apt-get install wrk)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fgw-ratelimit-bench.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_http() {
  for _ in $(seq 1 300); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
  die "$1 did not answer"
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
table_ops() { curl -fsS "http://127.0.0.1:$PROXY_PORT/__counts" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'; }

log "building (Release)"
dotnet build FuncGateway.sln -c Release -v quiet -nologo > "$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; die "build failed"; }
[[ -x node_modules/.bin/azurite-table ]] || npm ci --no-audit --no-fund > "$WORK/npm.log" 2>&1

AZURITE_PORT=$(free_port)
node_modules/.bin/azurite-table --inMemoryPersistence --disableTelemetry --tableHost 127.0.0.1 --tablePort "$AZURITE_PORT" --silent > "$WORK/azurite.log" 2>&1 &
PIDS+=($!)
PROXY_PORT=$(free_port)
node bench/ratelimits/count-proxy.mjs "$PROXY_PORT" "$AZURITE_PORT" > "$WORK/proxy.log" 2>&1 &
PIDS+=($!)
ECHO_PORT=$(free_port)
dotnet samples/FuncGateway.Samples.Echo/bin/Release/net10.0/FuncGateway.Samples.Echo.dll --urls "http://127.0.0.1:$ECHO_PORT" --Echo:Instance=echo > "$WORK/echo.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$ECHO_PORT/healthz"
wait_http "http://127.0.0.1:$PROXY_PORT/__counts"

KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
CONNECTION="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$KEY;TableEndpoint=http://127.0.0.1:$PROXY_PORT/devstoreaccount1;"
cat > "$WORK/routes.json" <<JSON
{
  "routes": [
    { "id": "free", "path": "/free", "upstream": "http://127.0.0.1:$ECHO_PORT" },
    { "id": "fast", "path": "/fast", "upstream": "http://127.0.0.1:$ECHO_PORT", "rateLimit": ["fast"] },
    { "id": "strict", "path": "/strict", "upstream": "http://127.0.0.1:$ECHO_PORT", "rateLimit": ["strict"] }
  ]
}
JSON
for attempt in 1 2 3 4 5 6 7 8 9 10; do
  dotnet functions/FuncGateway.Cli/bin/Release/net10.0/fgw.dll import "$WORK/routes.json" --connection-string "$CONNECTION" > "$WORK/fgw.log" 2>&1 && break
  (( attempt < 10 )) || { cat "$WORK/fgw.log"; die "fgw import failed"; }
  sleep 0.5
done

GATEWAY_PORT=$(free_port)
env \
  "FuncGateway__Storage__ConnectionString=$CONNECTION" \
  FuncGateway__RateLimits__Policies__fast__Limit=1000000000 \
  FuncGateway__RateLimits__Policies__fast__WindowSeconds=60 \
  FuncGateway__RateLimits__Policies__fast__Mode=Fast \
  FuncGateway__RateLimits__Policies__fast__PartitionBy=Global \
  FuncGateway__RateLimits__Policies__strict__Limit=1000000000 \
  FuncGateway__RateLimits__Policies__strict__WindowSeconds=60 \
  FuncGateway__RateLimits__Policies__strict__Mode=Strict \
  FuncGateway__RateLimits__Policies__strict__PartitionBy=Global \
  FuncGateway__RateLimits__Policies__strict__Shards=1 \
  Logging__LogLevel__Default=Warning \
  dotnet functions/FuncGateway.Server/bin/Release/net10.0/FuncGateway.Server.dll --urls "http://127.0.0.1:$GATEWAY_PORT" > "$WORK/gateway.log" 2>&1 &
GATEWAY_PID=$!
PIDS+=("$GATEWAY_PID")
wait_http "http://127.0.0.1:$GATEWAY_PORT/_gateway/healthz"
for route in free fast strict; do wait_http "http://127.0.0.1:$GATEWAY_PORT/$route"; done

CONTENDERS=(free fast strict)
TICKS=$(getconf CLK_TCK)
RESULTS="$WORK/results.tsv"
run() { # contender seconds -> appends a line when recorded
  local name=$1 seconds=$2 record=$3 cpu0 cpu1 ops0 ops1 out
  cpu0=$(cpu_ticks "$GATEWAY_PID"); ops0=$(table_ops)
  out=$(wrk -t2 -c"$CONNECTIONS" -d"${seconds}s" "http://127.0.0.1:$GATEWAY_PORT/$name")
  cpu1=$(cpu_ticks "$GATEWAY_PID"); ops1=$(table_ops)
  local requests rps non2xx
  requests=$(grep -Eo '^ *[0-9]+ requests in' <<<"$out" | awk '{print $1}')
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  if [[ $record == yes ]]; then
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$requests" "$rps" "$((cpu1 - cpu0))" "$((ops1 - ops0))" "$non2xx" >> "$RESULTS"
    log "$(printf '%-7s %8.0f req/s  %6.1f us CPU/req  %.4f table ops/req  %s non-2xx' "$name" "$rps" \
      "$(python3 -c "print(($cpu1-$cpu0)/$TICKS*1e6/$requests)")" "$(python3 -c "print(($ops1-$ops0)/$requests)")" "$non2xx")"
  fi
}

log "warm-up ${WARMUP}s each"
for name in "${CONTENDERS[@]}"; do run "$name" "$WARMUP" no; done
for round in $(seq 1 "$ROUNDS"); do
  log "round $round/$ROUNDS"
  for i in 0 1 2; do run "${CONTENDERS[$(( (i + round) % 3 ))]}" "$SECONDS_PER_RUN" yes; done
done

python3 - "$RESULTS" "$TICKS" "$CONNECTIONS" "$SECONDS_PER_RUN" "$ROUNDS" <<'PY'
import sys, statistics
path, ticks, connections, seconds, rounds = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
rows = {}
for line in open(path):
    name, requests, rps, cpu, ops, non2xx = line.split("\t")
    rows.setdefault(name, []).append((int(requests), float(rps), int(cpu), int(ops), int(non2xx)))
def med(name, f): return statistics.median(f(r) for r in rows[name])
print()
print(f"FuncGateway rate limits, loopback, wrk -t2 -c{connections}, {rounds} rounds x {seconds} s per contender, medians")
print(f"{'route':8} {'req/s':>9} {'vs free':>8} {'CPU us/req':>11} {'vs free':>8} {'table ops/req':>14} {'non-2xx':>8}")
free_rps = med("free", lambda r: r[1]); free_cpu = med("free", lambda r: r[2] / ticks * 1e6 / r[0])
for name in ("free", "fast", "strict"):
    rps = med(name, lambda r: r[1]); cpu = med(name, lambda r: r[2] / ticks * 1e6 / r[0]); ops = med(name, lambda r: r[3] / r[0])
    non2xx = sum(r[4] for r in rows[name])
    print(f"{name:8} {rps:9.0f} {rps / free_rps:8.2f} {cpu:11.1f} {cpu / free_cpu:8.2f} {ops:14.4f} {non2xx:8d}")
PY
