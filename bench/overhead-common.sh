# Shared by the overhead benchmarks (auth-overhead.sh, cors-overhead.sh): sourced, not run. Parses
# [--rounds N] [--seconds S] [--connections C], starts Azurite and the echo upstream on free 127.0.0.1 ports, stops
# everything it started on exit, and gives run() (one wrk run: name, req/s, p99, non-2xx) and report() (medians and
# ratios to a baseline route). The sourcing script sets USAGE first.
set -euo pipefail

ROUNDS=3 SECONDS_PER_RUN=8 CONNECTIONS=32
while (( $# > 0 )); do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    *) echo "usage: $USAGE" >&2; exit 2 ;;
  esac
done
[[ $ROUNDS =~ ^[0-9]+$ && $ROUNDS -ge 1 && $ROUNDS -le 20 ]] || { echo "--rounds 1..20" >&2; exit 2; }
[[ $SECONDS_PER_RUN =~ ^[0-9]+$ && $SECONDS_PER_RUN -ge 1 && $SECONDS_PER_RUN -le 120 ]] || { echo "--seconds 1..120" >&2; exit 2; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
unset ASPNETCORE_URLS ASPNETCORE_HTTP_PORTS AzureWebJobsStorage
while read -r name; do unset "$name"; done < <(compgen -e | grep -E '^FuncGateway(__|:)' || true)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
for tool in wrk openssl python3 node; do command -v $tool >/dev/null || { echo "$tool is needed" >&2; exit 1; }; done

OUT=bin/Release/net10.0
SERVER=functions/FuncGateway.Server/$OUT/FuncGateway.Server.dll
CLI=functions/FuncGateway.Cli/$OUT/fgw.dll
ECHO=samples/FuncGateway.Samples.Echo/$OUT/FuncGateway.Samples.Echo.dll
for dll in "$SERVER" "$CLI" "$ECHO"; do [[ -f $dll ]] || { echo "$dll missing: build Release first" >&2; exit 1; }; done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fgw-overhead-bench.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_http() { for _ in $(seq 1 150); do curl -s -o /dev/null "$1" && return 0; sleep 0.2; done; echo "not ready: $1" >&2; exit 1; }

AZ_PORT=$(free_port) ECHO_PORT=$(free_port) GW_PORT=$(free_port)
node_modules/.bin/azurite-table --inMemoryPersistence --disableTelemetry --tableHost 127.0.0.1 --tablePort "$AZ_PORT" --silent >"$WORK/azurite.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$AZ_PORT") 2>/dev/null && break; sleep 0.2; done
export FuncGateway__Storage__ConnectionString="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:$AZ_PORT/devstoreaccount1;"
export FuncGateway__Storage__TablePrefix=Bench

dotnet "$ECHO" --urls "http://127.0.0.1:$ECHO_PORT" --Echo:Instance=echo >"$WORK/echo.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$ECHO_PORT/healthz"
BASE="http://127.0.0.1:$GW_PORT"

run() { # name path [wrk option...] (-H "Name: value", -s script.lua)
  local name=$1 path=$2
  shift 2
  wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency "$@" "$BASE$path" |
    awk -v n="$name" '/Requests\/sec/ {rps=$2} /Non-2xx/ {bad=$NF} /^ +99%/ {p99=$2} END {print n, rps, p99, (bad==""?0:bad)}'
}

report() { # baseline route...: medians of the results file, and each route's ratio to the baseline
  python3 - "$WORK/results" "$@" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
baseline, names = sys.argv[2], sys.argv[2:]
by = {}
for name, rps, p99, bad in rows:
    by.setdefault(name, []).append((float(rps), p99, int(bad)))
med = {k: statistics.median(r for r, _, _ in v) for k, v in by.items()}
print(f"\n{'route':10} {'median req/s':>13} {'vs ' + baseline:>13}  p99 per round            non-2xx")
for k in names:
    print(f"{k:10} {med[k]:13.0f} {med[k] / med[baseline]:13.2f}  {' '.join(p for _, p, _ in by[k]):24} {sum(b for _, _, b in by[k])}")
PY
}

alternate() { # name...: ROUNDS rounds of load_<name> (a function of the sourcing script) for each, the order rotating each round, into the results file
  : >"$WORK/results"
  local order=("$@") round name
  for round in $(seq 1 "$ROUNDS"); do
    for name in "${order[@]}"; do
      "load_$name" | tee -a "$WORK/results" | sed "s/^/round $round: /"
    done
    order=("${order[@]:1}" "${order[0]}")
  done
}
