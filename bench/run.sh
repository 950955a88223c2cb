#!/usr/bin/env bash
# Side-by-side benchmark: direct to an upstream, through a bare YARP forwarder, through FuncGateway with N routes in
# its table (with --rate-limits also through FuncGateway with a fast-mode and a strict-mode limit; with --transforms a
# plain route and the same route with header-only transforms; with --validation a POST route with a 4 KiB JSON body and the
# same route with a JSON-schema Validation; with --body-transforms the same POST route with a body field mapping; with --telemetry a second FuncGateway with telemetry on). Builds Release,
# starts everything on 127.0.0.1, loads the contenders in alternation, prints medians and ratios, writes
# bench/results/<timestamp>.json, and stops everything it started. See bench/README.md.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/run.sh [options]
  --rounds N          measured rounds; each round loads every contender once, order rotating (default 5)
  --seconds S         seconds of load per contender per round (default 10)
  --warmup S          seconds of unrecorded load per contender before the rounds (default 5)
  --connections C     keep-alive connections, the same for every contender (default 32)
  --routes N          routes seeded into FuncGateway's table (default 1000)
  --tool wrk|dotnet   load generator (default: wrk, installed with apt-get if missing; else the .NET one)
  --gateway-env K=V   extra environment variable for the FuncGateway server only, repeatable (for A/B experiments)
  --runtime-env DOTNET_K=V  a runtime setting for every .NET process of the run alike (upstream, bare YARP, each
                      FuncGateway), repeatable; e.g. DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0 (bench/README.md, Session 8)
  --telemetry         also load a second FuncGateway with telemetry on (OTLP to a local sink, tracing sampled at
                      --sampling, metrics on) next to the first, telemetry off
  --sampling R        trace sampling ratio of the telemetry contender (default 0.1)
  --compare-dll PATH  also load a second FuncGateway running this FuncGateway.Server.dll (another build: the one
                      before a change) on the same table and route, telemetry off; reported as "FuncGateway (B)"
                      with ratios over the first (not with --telemetry: they share the second process's slot)
  --compare-env K=V   extra environment variable for FuncGateway (B) only, repeatable; without --compare-dll, (B)
                      runs the same build: a runtime or gateway setting A/B in one run (e.g. DOTNET_GCgen0size=0x400000)
  --rate-limits       also load two rate-limited routes of the same shape (a fast-mode and a strict-mode limit that
                      is never reached, both on one Global key) and count table operations per request through a
                      proxy in front of Azurite
  --policies          also load three policy routes of the same shape (issue #11): a JWT route (RS256, one token
                      repeated), an API-key route, and the full policy route (JWT or API key, a fast-mode limit that
                      is never reached, a PowerOfTwoChoices pool of two instances with an active health check);
                      the report gives each contender's throughput and CPU per request as ratios to bare YARP
  --transforms        also load two routes of the same shape through FuncGateway, one plain and one with header-only
                      Transforms (request and response headers, docs/transforms.md), and report their ratio
  --cache             also load two routes of the same shape through FuncGateway, one plain (proxied) and one with a
                      Cache property (every request after the first a hit, docs/caching.md), and report their ratios
  --validation        also POST bench/validation-body.json (4 KiB of JSON) to two routes of the same shape, one plain
                      and one validating it against a JSON Schema (docs/validation.md), and report their ratio (wrk only)
  --body-transforms   also POST bench/validation-body.json to two routes of the same shape, one plain and one mapping
                      its fields (a move, defaults, removals in every item; docs/transforms.md), and report their
                      ratio (wrk only)
  --server-dll PATH   run this FuncGateway.Server.dll instead of the one built here (for before/after comparisons:
                      build another revision, copy its bin/Release/net10.0 folder, point at the DLL in it)
  --ready-to-run      run FuncGateway.Server as published for linux-x64 with ReadyToRun (dotnet publish -r linux-x64
                      into the work folder; the csproj turns ReadyToRun on for any publish with a runtime identifier)
  --no-build          use the Release outputs already built (FuncGateway.Server unless --server-dll, and the bench)
  --no-pin            do not pin processes to cores (by default, with 2 or more cores and taskset available, the
                      servers run on core 0 and the load generator on core 1)
  --warmup-curve      instead of the side-by-side run: start a fresh bare YARP forwarder, then a fresh FuncGateway,
                      each pinned as usual, and load each with back-to-back 1-s wrk slices from its start until
                      --curve-seconds after it (default 30); prints req/s per slice and the time to 90% of each
                      one's own final rate (issue #11). (--warmup is the side-by-side run's warm-up seconds)
  --curve-seconds N   length of the warm-up curve (default 30)
  --scale             instead of the side-by-side run: for 1,000 and 10,000 routes (or --scale-routes), seed the
                      table, start a fresh FuncGateway, time start to the first proxied 200 of the table's last
                      route, load it for 5 s, and read its RSS (VmRSS/VmHWM) (issue #11)
  --scale-routes LIST comma-separated route counts for --scale (default 1000,10000)
  --scale-sustain N   with --scale: after the 5-s load, keep loading each gateway for N more seconds (10–3600), read
                      its RSS every 10 s and report the lowest, median and highest of those readings (default 0: off)
  --quick             smoke run: 1 round of 3 s, 2 s warm-up (options after --quick still apply)
  -h, --help          this text
EOF
}

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
COMMAND_LINE="bench/run.sh${*:+ $*}"

ROUNDS=5
SECONDS_PER_RUN=10
WARMUP=5
CONNECTIONS=32
ROUTES=1000
TOOL=auto
GATEWAY_ENV=()
RUNTIME_ENV=()
RATE_LIMITS=0
POLICIES=0
PIN=1
SERVER_DLL_OVERRIDE=
BUILD=1
READY_TO_RUN=0
TELEMETRY=0
COMPARE_DLL=
COMPARE_ENV=()
SAMPLING=0.1
TRANSFORMS=0
CACHE=0
MODE=side-by-side
CURVE_SECONDS=30
SCALE_ROUTES=1000,10000
SCALE_SUSTAIN=0
VALIDATION=0
BODY_TRANSFORMS=0

die() { echo "run.sh: $*" >&2; exit 1; }
need_int() { [[ $2 =~ ^[0-9]+$ ]] && (( $2 >= $3 && $2 <= $4 )) || die "$1 must be an integer in [$3, $4], got '$2'"; }

while (( $# > 0 )); do
  case $1 in
    --rounds) need_int "$1" "${2-}" 1 100; ROUNDS=$2; shift 2 ;;
    --seconds) need_int "$1" "${2-}" 1 600; SECONDS_PER_RUN=$2; shift 2 ;;
    --warmup) need_int "$1" "${2-}" 0 600; WARMUP=$2; shift 2 ;;
    --connections) need_int "$1" "${2-}" 1 1024; CONNECTIONS=$2; shift 2 ;;
    --routes) need_int "$1" "${2-}" 1 20000; ROUTES=$2; shift 2 ;;
    --tool) [[ ${2-} =~ ^(wrk|dotnet)$ ]] || die "--tool must be wrk or dotnet"; TOOL=$2; shift 2 ;;
    --gateway-env) [[ ${2-} =~ ^[A-Za-z_][A-Za-z0-9_.]*=.*$ ]] || die "--gateway-env needs KEY=VALUE"; GATEWAY_ENV+=("$2"); shift 2 ;;
    --runtime-env) [[ ${2-} =~ ^DOTNET_[A-Za-z0-9_]*=.*$ ]] || die "--runtime-env needs DOTNET_NAME=VALUE"; RUNTIME_ENV+=("$2"); shift 2 ;;
    --rate-limits) RATE_LIMITS=1; shift ;;
    --policies) POLICIES=1; shift ;;
    --no-pin) PIN=0; shift ;;
    --no-build) BUILD=0; shift ;;
    --ready-to-run) READY_TO_RUN=1; shift ;;
    --server-dll) [[ -f ${2-} ]] || die "--server-dll needs an existing file"; SERVER_DLL_OVERRIDE=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
    --telemetry) TELEMETRY=1; shift ;;
    --compare-env) [[ ${2-} =~ ^[A-Za-z_][A-Za-z0-9_.]*=.*$ ]] || die "--compare-env needs KEY=VALUE"; COMPARE_ENV+=("$2"); shift 2 ;;
    --compare-dll) [[ $# -ge 2 ]] || die "--compare-dll needs a path"; COMPARE_DLL=$(realpath "$2"); shift 2 ;;
    --sampling) [[ ${2-} =~ ^(0(\.[0-9]+)?|1(\.0+)?)$ ]] || die "--sampling needs a ratio between 0 and 1"; SAMPLING=$2; shift 2 ;;
    --transforms) TRANSFORMS=1; shift ;;
    --cache) CACHE=1; shift ;;
    --warmup-curve) MODE=warmup-curve; shift ;;
    --curve-seconds) need_int "$1" "${2-}" 5 300; CURVE_SECONDS=$2; shift 2 ;;
    --scale) MODE=scale; shift ;;
    --scale-routes) [[ ${2-} =~ ^[0-9]+(,[0-9]+)*$ ]] || die "--scale-routes needs a comma-separated list of counts"; SCALE_ROUTES=$2; shift 2 ;;
    --scale-sustain) need_int --scale-sustain "${2-}" 10 3600; SCALE_SUSTAIN=$2; shift 2 ;;
    --validation) VALIDATION=1; shift ;;
    --body-transforms) BODY_TRANSFORMS=1; shift ;;
    --quick) ROUNDS=1; SECONDS_PER_RUN=3; WARMUP=2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option '$1'" ;;
  esac
done

# Nothing inherited may steer the servers elsewhere or change the gateway's settings behind our back.
unset ASPNETCORE_URLS ASPNETCORE_HTTP_PORTS ASPNETCORE_HTTPS_PORTS DOTNET_URLS ASPNETCORE_ENVIRONMENT DOTNET_ENVIRONMENT AzureWebJobsStorage
while read -r name; do unset "$name"; done < <(compgen -e | grep -E '^FuncGateway(__|:)' || true)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# --runtime-env: runtime settings for every .NET process of the run alike (upstream, bare YARP, every FuncGateway).
for item in ${RUNTIME_ENV[@]+"${RUNTIME_ENV[@]}"}; do export "${item?}"; done

# ---------------------------------------------------------------------------------------------------------------
# Everything started is recorded here and stopped on exit, Ctrl+C or TERM; the work folder goes with it.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fgw-bench.XXXXXX")
PIDS=()
LOAD_PID=

is_running() {
  local stat rest
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  rest=${stat##*) }
  [[ ${rest%% *} != Z ]]
}

stop_pid() {
  local pid=$1 _
  if is_running "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do is_running "$pid" || break; sleep 0.1; done
    if is_running "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? i f
  trap - EXIT INT TERM
  if [[ -n $LOAD_PID ]]; then stop_pid "$LOAD_PID"; fi
  for (( i = ${#PIDS[@]} - 1; i >= 0; i-- )); do stop_pid "${PIDS[i]}"; done
  if (( rc != 0 )); then
    for f in "$WORK"/*.log; do
      [[ -s $f ]] || continue
      echo "--- last lines of $(basename "$f"):"
      tail -n 15 "$f"
    done >&2
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" <<< "$2"; }

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# A port nobody listens on. The OS may still hand it to someone else before we bind; a bind failure then fails the
# start-up check below, loudly.
free_port() {
  local port _
  for _ in $(seq 1 200); do
    port=$(( 20000 + RANDOM % 40000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  die "no free port found"
}

wait_for_port() { # name pid port seconds
  local deadline=$(( SECONDS + $4 ))
  until (exec 3<>"/dev/tcp/127.0.0.1/$3") 2>/dev/null; do
    is_running "$2" || die "$1 exited during start-up"
    (( SECONDS < deadline )) || die "$1 not listening on 127.0.0.1:$3 after $4 s"
    sleep 0.2
  done
}

wait_for_file() { # name pid file seconds
  local deadline=$(( SECONDS + $4 ))
  until [[ -s $3 ]]; do
    is_running "$2" || die "$1 exited during start-up"
    (( SECONDS < deadline )) || die "$1 did not start within $4 s"
    sleep 0.1
  done
}

http_code() { # url [header]
  local args=(-s -o "$WORK/probe.body" -w '%{http_code}' --max-time 5)
  [[ -n ${2-} ]] && args+=(-H "$2")
  curl "${args[@]}" "$1" || true
}

wait_for_200() { # name pid url seconds [header]
  local deadline=$(( SECONDS + $4 )) code
  while :; do
    code=$(http_code "$3" "${5-}")
    [[ $code == 200 ]] && return 0
    is_running "$2" || die "$1 exited while waiting for $3"
    (( SECONDS < deadline )) || die "$1: $3 answered ${code:-nothing} (not 200) after $4 s"
    sleep 0.25
  done
}

# ---------------------------------------------------------------------------------------------------------------
if (( BUILD )); then
  log "building Release"
  [[ -n $SERVER_DLL_OVERRIDE ]] || dotnet build "$ROOT/functions/FuncGateway.Server/FuncGateway.Server.csproj" -c Release --disable-build-servers -nologo -v quiet
  dotnet build "$BENCH_DIR/FuncGateway.Bench/FuncGateway.Bench.csproj" -c Release --disable-build-servers -nologo -v quiet
fi
SERVER_DLL=${SERVER_DLL_OVERRIDE:-$ROOT/functions/FuncGateway.Server/bin/Release/net10.0/FuncGateway.Server.dll}
BENCH_DLL=$BENCH_DIR/FuncGateway.Bench/bin/Release/net10.0/FuncGateway.Bench.dll
if (( READY_TO_RUN )); then
  [[ -z $SERVER_DLL_OVERRIDE ]] || die "--ready-to-run and --server-dll exclude each other"
  log "publishing FuncGateway.Server for linux-x64 with ReadyToRun"
  dotnet publish "$ROOT/functions/FuncGateway.Server/FuncGateway.Server.csproj" -c Release -r linux-x64 --self-contained false \
    -o "$WORK/ready-to-run" --disable-build-servers -nologo -v quiet > "$WORK/publish.log" 2>&1 || die "publish failed: $(tail -n 5 "$WORK/publish.log")"
  SERVER_DLL=$WORK/ready-to-run/FuncGateway.Server.dll
fi
[[ -f $SERVER_DLL && -f $BENCH_DLL ]] || die "build outputs missing"

if [[ $TOOL != dotnet ]] && ! command -v wrk >/dev/null; then
  if (( EUID == 0 )) && command -v apt-get >/dev/null; then
    log "installing wrk"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; } > "$WORK/apt.log" 2>&1 || true
  fi
  if ! command -v wrk >/dev/null; then
    [[ $TOOL == auto ]] || die "wrk is not installed and could not be installed"
    log "wrk unavailable: using the .NET load generator"
    TOOL=dotnet
  fi
fi
[[ $TOOL == auto ]] && TOOL=wrk
(( VALIDATION )) && [[ $TOOL != wrk ]] && die "--validation needs wrk: the .NET load generator sends GETs only"
(( BODY_TRANSFORMS )) && [[ $TOOL != wrk ]] && die "--body-transforms needs wrk: the .NET load generator sends GETs only"
command -v curl >/dev/null || die "curl is required"
(( RATE_LIMITS == 0 )) || command -v node >/dev/null || die "--rate-limits needs node (for the table-counting proxy)"
# --compare-env alone: (B) is this build with those settings.
(( ${#COMPARE_ENV[@]} == 0 )) || [[ -n $COMPARE_DLL ]] || COMPARE_DLL=$SERVER_DLL
[[ -z $COMPARE_DLL ]] || { (( TELEMETRY == 0 )) || die "--compare-dll and --telemetry cannot be combined"; [[ -f $COMPARE_DLL ]] || die "no such file: $COMPARE_DLL"; }
(( TELEMETRY == 0 )) || command -v node >/dev/null || die "--telemetry needs node (for the OTLP sink)"

# Servers on core 0, the load generator on core 1: the load generator then never takes CPU from the proxy under test,
# and each process's CPU time per request is its own work, not time slices lost to the generator.
SERVER_PIN=()
LOAD_PIN=()
if (( PIN )) && (( $(nproc) >= 2 )) && command -v taskset >/dev/null; then
  SERVER_PIN=(taskset -c 0)
  LOAD_PIN=(taskset -c 1)
  log "pinning: servers to core 0, load generator to core 1"
else
  PIN=0
  log "not pinning (--no-pin, fewer than 2 cores, or no taskset)"
fi

if [[ ! -x $ROOT/node_modules/.bin/azurite-table ]]; then
  log "installing Azurite (npm ci)"
  (cd "$ROOT" && npm ci --no-audit --no-fund) > "$WORK/npm.log" 2>&1 || die "npm ci failed (see $WORK/npm.log)"
fi

# ---------------------------------------------------------------------------------------------------------------
AZ_PORT=$(free_port)
log "starting Azurite (table service, in memory) on 127.0.0.1:$AZ_PORT"
${SERVER_PIN[@]+"${SERVER_PIN[@]}"} "$ROOT/node_modules/.bin/azurite-table" --inMemoryPersistence --disableTelemetry --silent \
  --tableHost 127.0.0.1 --tablePort "$AZ_PORT" > "$WORK/azurite.log" 2>&1 &
AZ_PID=$!; PIDS+=("$AZ_PID")

log "starting the upstream"
(cd "$WORK" && exec ${SERVER_PIN[@]+"${SERVER_PIN[@]}"} dotnet "$BENCH_DLL" upstream --port-file "$WORK/upstream.port") > "$WORK/upstream.log" 2>&1 &
UP_PID=$!; PIDS+=("$UP_PID")
wait_for_file upstream "$UP_PID" "$WORK/upstream.port" 30
UP_PORT=$(cat "$WORK/upstream.port")
UPSTREAM=http://127.0.0.1:$UP_PORT

log "starting the bare YARP forwarder"
(cd "$WORK" && exec ${SERVER_PIN[@]+"${SERVER_PIN[@]}"} dotnet "$BENCH_DLL" yarp --upstream "$UPSTREAM" --port-file "$WORK/yarp.port") > "$WORK/yarp.log" 2>&1 &
YARP_PID=$!; PIDS+=("$YARP_PID")
wait_for_file "YARP forwarder" "$YARP_PID" "$WORK/yarp.port" 30
YARP=http://127.0.0.1:$(cat "$WORK/yarp.port")

wait_for_port Azurite "$AZ_PID" "$AZ_PORT" 60
CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:$AZ_PORT/devstoreaccount1;"
GATEWAY_CONNECTION_STRING=$CONNECTION_STRING
RATE_LIMIT_ENV=()
COUNT_PORT=
if (( RATE_LIMITS )); then
  # Every table operation of the gateway (the registry poll, the rate-limit counters) goes through a counting proxy.
  COUNT_PORT=$(free_port)
  log "starting the table-counting proxy on 127.0.0.1:$COUNT_PORT (in front of Azurite)"
  ${SERVER_PIN[@]+"${SERVER_PIN[@]}"} node "$BENCH_DIR/table-count-proxy.mjs" "$COUNT_PORT" "$AZ_PORT" > "$WORK/count-proxy.log" 2>&1 &
  COUNT_PID=$!; PIDS+=("$COUNT_PID")
  wait_for_port "table-counting proxy" "$COUNT_PID" "$COUNT_PORT" 30
  GATEWAY_CONNECTION_STRING=${CONNECTION_STRING/:$AZ_PORT\//:$COUNT_PORT/}
  # Limits of 10^9 a minute on one Global key: never reached, so both routes answer 200 and what is measured is the
  # cost of counting. Strict on one row (Shards=1): its ceiling is that of one counter row.
  RATE_LIMIT_ENV=(
    FuncGateway__RateLimits__Policies__fast__Limit=1000000000 FuncGateway__RateLimits__Policies__fast__WindowSeconds=60
    FuncGateway__RateLimits__Policies__fast__Mode=Fast FuncGateway__RateLimits__Policies__fast__PartitionBy=Global
    FuncGateway__RateLimits__Policies__strict__Limit=1000000000 FuncGateway__RateLimits__Policies__strict__WindowSeconds=60
    FuncGateway__RateLimits__Policies__strict__Mode=Strict FuncGateway__RateLimits__Policies__strict__PartitionBy=Global
    FuncGateway__RateLimits__Policies__strict__Shards=1
  )
fi
POLICY_ENV=()
SEED_POLICIES=()
if (( POLICIES )); then
  mkdir -p "$WORK/policies"
  SEED_POLICIES=(--policies-dir "$WORK/policies")
  if (( ! RATE_LIMITS )); then
    POLICY_ENV+=(FuncGateway__RateLimits__Policies__fast__Limit=1000000000 FuncGateway__RateLimits__Policies__fast__WindowSeconds=60
      FuncGateway__RateLimits__Policies__fast__Mode=Fast FuncGateway__RateLimits__Policies__fast__PartitionBy=Global)
  fi
fi
seed_routes() { # prefix count [seed options...]
  local prefix=$1 count=$2
  shift 2
  log "seeding $count routes (tables ${prefix}Routes, ${prefix}Upstreams)"
  (cd "$WORK" && dotnet "$BENCH_DLL" seed --connection-string "$CONNECTION_STRING" --prefix "$prefix" --routes "$count" --upstream "$UPSTREAM" "$@") \
    > "$WORK/seed.log" 2>&1 || die "seeding failed: $(tail -n 5 "$WORK/seed.log")"
}

start_gateway() { # port prefix → GW_PID, GW_STARTED_MS (the gateway's own log: $WORK/gateway.log)
  log "starting FuncGateway.Server on 127.0.0.1:$1${GATEWAY_ENV[*]:+ with ${GATEWAY_ENV[*]}}"
  GW_STARTED_MS=$(now_ms)
  (cd "$WORK" && exec env \
    FuncGateway__Storage__ConnectionString="$GATEWAY_CONNECTION_STRING" \
    FuncGateway__Storage__TablePrefix="$2" \
    ${RATE_LIMIT_ENV[@]+"${RATE_LIMIT_ENV[@]}"} \
    ${POLICY_ENV[@]+"${POLICY_ENV[@]}"} \
    ${GATEWAY_ENV[@]+"${GATEWAY_ENV[@]}"} \
    ${SERVER_PIN[@]+"${SERVER_PIN[@]}"} dotnet "$SERVER_DLL" --urls "http://127.0.0.1:$1") > "$WORK/gateway.log" 2>&1 &
  GW_PID=$!; PIDS+=("$GW_PID")
}

if [[ $MODE != side-by-side ]]; then
  # shellcheck source=bench/startup.sh
  source "$BENCH_DIR/startup.sh"
  exit 0
fi

PREFIX=Bench$(date +%H%M%S)$RANDOM
seed_routes "$PREFIX" "$ROUTES" \
  --rate-limited "$( (( RATE_LIMITS )) && echo true || echo false)" --transforms "$( (( TRANSFORMS )) && echo true || echo false)" \
  --cache "$( (( CACHE )) && echo true || echo false)" --validation "$( (( VALIDATION )) && echo true || echo false)" \
  --body-transforms "$( (( BODY_TRANSFORMS )) && echo true || echo false)" \
  ${SEED_POLICIES[@]+"${SEED_POLICIES[@]}"}

if (( POLICIES )); then
  # The JWT policy trusts the key the seeder made (a static JWKS: the cost measured is validation, not fetching).
  POLICY_ENV+=(
    FuncGateway__Auth__Policies__bench_jwt__Type=Jwt FuncGateway__Auth__Policies__bench_jwt__Issuer=https://bench.funcgateway.test/
    FuncGateway__Auth__Policies__bench_jwt__Audiences=api://bench "FuncGateway__Auth__Policies__bench_jwt__Jwks=$(< "$WORK/policies/jwks.json")"
    FuncGateway__Auth__Policies__bench_keys__Type=ApiKey
  )
  TOKEN=$(< "$WORK/policies/token.txt")
  API_KEY=$(< "$WORK/policies/apikey.txt")
fi
GW_PORT=$(free_port)
start_gateway "$GW_PORT" "$PREFIX"
GATEWAY=http://127.0.0.1:$GW_PORT
wait_for_200 FuncGateway "$GW_PID" "$GATEWAY/_gateway/healthz" 60

# The table is loaded when its last route answers (through the gateway, from the upstream).
wait_for_200 FuncGateway "$GW_PID" "$GATEWAY/svc$ROUTES/items/7" 30
[[ $(cat "$WORK/probe.body") == ok ]] || die "route $ROUTES answered 200 but not with the upstream's body"

GW2_PID=
if (( TELEMETRY )); then
  # The same server and table with telemetry on: OTLP over HTTP to a sink that answers 200 to everything (what an
  # exporter costs the gateway, not what a collector costs), traces sampled at $SAMPLING, every metric on.
  SINK_PORT=$(free_port)
  log "starting the OTLP sink on 127.0.0.1:$SINK_PORT"
  node -e 'require("http").createServer((q, r) => { q.resume(); q.on("end", () => { r.writeHead(200, {"content-type": "application/x-protobuf"}); r.end(); }); }).listen(+process.argv[1], "127.0.0.1")' "$SINK_PORT" \
    > "$WORK/otlp-sink.log" 2>&1 &
  SINK_PID=$!; PIDS+=("$SINK_PID")
  wait_for_port "OTLP sink" "$SINK_PID" "$SINK_PORT" 30
  GW2_PORT=$(free_port)
  log "starting FuncGateway.Server with telemetry on 127.0.0.1:$GW2_PORT (sampling $SAMPLING)"
  (cd "$WORK" && exec env \
    FuncGateway__Storage__ConnectionString="$GATEWAY_CONNECTION_STRING" \
    FuncGateway__Storage__TablePrefix="$PREFIX" \
    ${RATE_LIMIT_ENV[@]+"${RATE_LIMIT_ENV[@]}"} \
    ${POLICY_ENV[@]+"${POLICY_ENV[@]}"} \
    ${GATEWAY_ENV[@]+"${GATEWAY_ENV[@]}"} \
    OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$SINK_PORT" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
    FuncGateway__Telemetry__SamplingRatio="$SAMPLING" \
    ${SERVER_PIN[@]+"${SERVER_PIN[@]}"} dotnet "$SERVER_DLL" --urls "http://127.0.0.1:$GW2_PORT") > "$WORK/gateway-telemetry.log" 2>&1 &
  GW2_PID=$!; PIDS+=("$GW2_PID")
  wait_for_200 "FuncGateway (telemetry)" "$GW2_PID" "http://127.0.0.1:$GW2_PORT/svc$ROUTES/items/7" 60
fi

if [[ -n $COMPARE_DLL ]]; then
  # Another build of the server on the same table, everything else equal: a before/after in one run.
  GW2_PORT=$(free_port)
  log "starting FuncGateway.Server (B) from $COMPARE_DLL on 127.0.0.1:$GW2_PORT${COMPARE_ENV[*]:+ with ${COMPARE_ENV[*]}}"
  (cd "$WORK" && exec env \
    FuncGateway__Storage__ConnectionString="$GATEWAY_CONNECTION_STRING" \
    FuncGateway__Storage__TablePrefix="$PREFIX" \
    ${RATE_LIMIT_ENV[@]+"${RATE_LIMIT_ENV[@]}"} \
    ${POLICY_ENV[@]+"${POLICY_ENV[@]}"} \
    ${GATEWAY_ENV[@]+"${GATEWAY_ENV[@]}"} \
    ${COMPARE_ENV[@]+"${COMPARE_ENV[@]}"} \
    ${SERVER_PIN[@]+"${SERVER_PIN[@]}"} dotnet "$COMPARE_DLL" --urls "http://127.0.0.1:$GW2_PORT") > "$WORK/gateway-b.log" 2>&1 &
  GW2_PID=$!; PIDS+=("$GW2_PID")
  wait_for_200 "FuncGateway (B)" "$GW2_PID" "http://127.0.0.1:$GW2_PORT/svc$ROUTES/items/7" 60
fi

# The same path everywhere; through FuncGateway it matches a route in the middle of the table.
TARGET=/svc$(( (ROUTES + 1) / 2 ))/items/7
NAMES=(direct yarp funcgateway)
URLS=("$UPSTREAM$TARGET" "$YARP$TARGET" "$GATEWAY$TARGET")
HEADERS=("" "" "")
if (( RATE_LIMITS )); then
  # The same route shape (two literal segments and a parameter), with a limit.
  NAMES+=(funcgateway-fast funcgateway-strict)
  URLS+=("$GATEWAY/rl-fast/items/7" "$GATEWAY/rl-strict/items/7")
  HEADERS+=("" "")
fi
if (( POLICIES )); then
  # The same route shape again; the JWT contenders repeat one token, as a client does between refreshes.
  NAMES+=(funcgateway-jwt funcgateway-apikey funcgateway-full)
  URLS+=("$GATEWAY/pol-jwt/items/7" "$GATEWAY/pol-key/items/7" "$GATEWAY/pol-full/items/7")
  HEADERS+=("Authorization: Bearer $TOKEN" "X-API-Key: $API_KEY" "Authorization: Bearer $TOKEN")
  # The balanced pool is routed to once its health check has run (instances are Unknown, then Healthy).
  wait_for_200 FuncGateway "$GW_PID" "$GATEWAY/pol-full/items/7" 30 "Authorization: Bearer $TOKEN"
fi
if (( TELEMETRY )); then
  NAMES+=(funcgateway-telemetry)
  HEADERS+=("")
  URLS+=("http://127.0.0.1:$GW2_PORT$TARGET")
fi
if [[ -n $COMPARE_DLL ]]; then
  NAMES+=(funcgateway-b)
  HEADERS+=("")
  URLS+=("http://127.0.0.1:$GW2_PORT$TARGET")
fi
if (( TRANSFORMS )); then
  # The same route shape twice: plain, and with header-only transforms (the seeder's HeaderTransforms).
  NAMES+=(funcgateway-tx-plain funcgateway-tx-headers)
  URLS+=("$GATEWAY/tx-plain/items/7" "$GATEWAY/tx-headers/items/7")
  HEADERS+=("" "")
fi
if (( CACHE )); then
  # The same route shape twice: proxied, and answered from the cache (the seeder's CacheProperty).
  NAMES+=(funcgateway-cache-plain funcgateway-cache-hit)
  URLS+=("$GATEWAY/cache-plain/items/7" "$GATEWAY/cache-hit/items/7")
  HEADERS+=("" "")
fi
if (( VALIDATION )); then
  # The same POST route shape twice: plain, and validating the body against the seeder's OrderSchema.
  NAMES+=(funcgateway-val-plain funcgateway-val-schema)
  URLS+=("$GATEWAY/val-plain/items/7" "$GATEWAY/val-schema/items/7")
  HEADERS+=("" "")
fi
if (( BODY_TRANSFORMS )); then
  # The same POST route shape twice: plain, and mapping the body's fields (the seeder's BodyMapping).
  NAMES+=(funcgateway-bt-plain funcgateway-bt-mapped)
  URLS+=("$GATEWAY/bt-plain/items/7" "$GATEWAY/bt-mapped/items/7")
  HEADERS+=("" "")
fi
COUNT=${#NAMES[@]}
for (( i = 0; i < COUNT; i++ )); do
  code=$(http_code "${URLS[i]}" "${HEADERS[i]}")
  [[ $code == 200 && $(cat "$WORK/probe.body") == ok ]] || die "${URLS[i]} answered $code, not 200 \"ok\""
done
log "all $COUNT contenders answer 200 \"ok\""

# ---------------------------------------------------------------------------------------------------------------
CLK_TCK=$(getconf CLK_TCK)

cpu_ticks() { # pid → user+system ticks so far (0 once gone)
  local stat rest f
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  rest=${stat##*) }
  read -ra f <<< "$rest"
  echo $(( f[11] + f[12] ))
}

machine_ticks() { # → "busy total softirq" over all cores
  local _ user nice system idle iowait irq softirq steal
  read -r _ user nice system idle iowait irq softirq steal _ < /proc/stat
  echo "$(( user + nice + system + irq + softirq + steal )) $(( user + nice + system + idle + iowait + irq + softirq + steal )) $softirq"
}

# Call directly, not in $(...): `times` must run in this shell to see the CPU of the load generator it waited for.
cpu_snapshot() { # variable → "upstream yarp gateway gateway-telemetry azurite busy total softirq loadgen_seconds"
  local children
  times > "$WORK/times.txt"
  children=$(awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, t, "m"); s += t[1] * 60 + t[2] } printf "%.3f", s }' "$WORK/times.txt")
  printf -v "$1" '%s %s %s %s %s %s %s' "$(cpu_ticks "$UP_PID")" "$(cpu_ticks "$YARP_PID")" "$(cpu_ticks "$GW_PID")" "$(cpu_ticks "${GW2_PID:-0}")" "$(cpu_ticks "$AZ_PID")" \
    "$(machine_ticks)" "$children"
}

# CPU seconds each process used during one run; the load generator's (with this script's few helpers); the kernel's
# softirq time (loopback TCP; when it runs inside a process it is also in that process's figure); whatever else kept
# the cores busy ("other": other users' builds show up here, and softirq work done outside our processes); and how
# busy all cores were.
cpu_json() { # before after
  awk -v tck="$CLK_TCK" -v b="$1" -v a="$2" 'BEGIN {
    split(b, x, " "); split(a, y, " ");
    up = (y[1]-x[1])/tck; yarp = (y[2]-x[2])/tck; gw = (y[3]-x[3])/tck; gw2 = (y[4]-x[4])/tck; az = (y[5]-x[5])/tck;
    busy = (y[6]-x[6])/tck; total = (y[7]-x[7])/tck; softirq = (y[8]-x[8])/tck; gen = y[9]-x[9];
    other = busy - up - yarp - gw - gw2 - az - gen; if (other < 0) other = 0;
    printf "{\"upstream_s\":%.2f,\"yarp_s\":%.2f,\"gateway_s\":%.2f,\"gateway2_s\":%.2f,\"azurite_s\":%.2f,\"loadgen_s\":%.2f,\"softirq_s\":%.2f,\"other_s\":%.2f,\"machine_busy\":%.3f}",
      up, yarp, gw, gw2, az, gen, softirq, other, (total > 0 ? busy / total : 0) }'
}

# Runs in this shell (not in $(...)), so LOAD_PID is visible to cleanup: `timeout` puts wrk in its own process group,
# out of reach of Ctrl+C, and only cleanup's TERM stops it early.
run_load() { # url seconds [header] → one JSON result line in $WORK/result.json
  local out=$WORK/load.log rc=0 header=()
  if [[ $TOOL == wrk ]]; then
    [[ -n ${3-} ]] && header=(-H "$3")
    # One wrk thread: on 2 cores a second one would only take CPU from the servers.
    # Only the --validation and --body-transforms routes are loaded with POSTs of the JSON body (see wrk-report.lua).
    local body_file=
    [[ $1 == */val-* || $1 == */bt-* ]] && body_file=$BENCH_DIR/validation-body.json
    BENCH_BODY_FILE=$body_file timeout $(( $2 + 30 )) ${LOAD_PIN[@]+"${LOAD_PIN[@]}"} wrk -t1 -c"$CONNECTIONS" -d"$2s" --timeout 10s --latency ${header[@]+"${header[@]}"} \
      -s "$BENCH_DIR/wrk-report.lua" "$1" > "$out" 2>&1 &
  else
    [[ -n ${3-} ]] && header=(--header "$3")
    timeout $(( $2 + 30 )) ${LOAD_PIN[@]+"${LOAD_PIN[@]}"} dotnet "$BENCH_DLL" load --url "$1" --connections "$CONNECTIONS" --seconds "$2" \
      ${header[@]+"${header[@]}"} > "$out" 2>&1 &
  fi
  LOAD_PID=$!
  wait "$LOAD_PID" || rc=$?
  LOAD_PID=
  (( rc == 0 )) || die "load generator failed (exit $rc): $(tail -n 5 "$out")"
  if [[ $TOOL == wrk ]]; then
    sed -n 's/^BENCH_RESULT //p' "$out" > "$WORK/result.json"
  else
    tail -n 1 "$out" > "$WORK/result.json"
  fi
  [[ -s $WORK/result.json ]] || die "no result from the load generator: $(tail -n 5 "$out")"
}


# Table operations so far, as the counting proxy saw them (empty without --rate-limits).
table_ops() { [[ -n $COUNT_PORT ]] && curl -s --max-time 5 "http://127.0.0.1:$COUNT_PORT/__counts" | sed -n 's/.*"total":\([0-9]*\).*/\1/p'; true; }

if (( WARMUP > 0 )); then
  for (( i = 0; i < COUNT; i++ )); do
    log "warm-up ${NAMES[i]} (${WARMUP} s)"
    run_load "${URLS[i]}" "$WARMUP" "${HEADERS[i]}"
  done
fi

# The runtime keeps compiling hot methods (tier 1) for a few seconds after load stops; let that finish before the
# first measured run, so it does not land on whoever goes first. Bounded: at most 15 s.
idle_ticks() { echo $(( $(cpu_ticks "$UP_PID") + $(cpu_ticks "$YARP_PID") + $(cpu_ticks "$GW_PID") + $(cpu_ticks "${GW2_PID:-0}") )); }
deadline=$(( SECONDS + 15 ))
previous=$(idle_ticks)
while (( SECONDS < deadline )); do
  sleep 1
  current=$(idle_ticks)
  (( current - previous <= CLK_TCK / 20 )) && break
  previous=$current
done

RAW=$WORK/rounds.jsonl
: > "$RAW"
log "measuring: $ROUNDS round(s) × $COUNT contenders × ${SECONDS_PER_RUN} s, $CONNECTIONS connections, $TOOL"
for (( round = 1; round <= ROUNDS; round++ )); do
  for (( position = 0; position < COUNT; position++ )); do
    # Rotate who goes first, so no contender always runs right after the same neighbour.
    i=$(( (round - 1 + position) % COUNT ))
    ops_before=$(table_ops)
    cpu_snapshot before
    run_load "${URLS[i]}" "$SECONDS_PER_RUN" "${HEADERS[i]}"
    cpu_snapshot after
    ops_after=$(table_ops)
    result=$(< "$WORK/result.json")
    tables=
    ops_note=
    if [[ -n $ops_before && -n $ops_after ]]; then
      tables=",\"table_ops\":$(( ops_after - ops_before ))"
      ops_note="  $(( ops_after - ops_before )) table ops"
    fi
    printf '{"round":%d,"position":%d,"contender":"%s","url":"%s","load":%s,"cpu":%s%s}\n' \
      "$round" "$position" "${NAMES[i]}" "${URLS[i]}" "$result" "$(cpu_json "$before" "$after")" "$tables" >> "$RAW"
    log "round $round/$ROUNDS  $(printf '%-18s' "${NAMES[i]}") $(printf '%.0f' "$(field requests_per_second "$result")") req/s  p99 $(printf '%.0f' "$(field p99_us "$result")") µs$ops_note"
  done
done

# What the gateway wrote to its console is part of its cost: say how much, and show a sample.
read -r GW_LOG_LINES GW_LOG_BYTES < <(wc -lc < "$WORK/gateway.log")
log "FuncGateway.Server wrote $GW_LOG_LINES lines ($(( GW_LOG_BYTES / 1024 )) KiB) to its console during the run; the last 4:"
tail -n 4 "$WORK/gateway.log" | cut -c1-160 | sed 's/^/    /'

# ---------------------------------------------------------------------------------------------------------------
mkdir -p "$BENCH_DIR/results"
RESULT_FILE=$BENCH_DIR/results/$(date -u +%Y%m%dT%H%M%SZ).json
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$ROOT" diff --quiet HEAD -- shared functions 2>/dev/null || GIT_REV="$GIT_REV+dirty"
# A JSON array of strings from the arguments (backslashes and quotes escaped).
json_strings() {
  local item out=
  for item in "$@"; do
    item=${item//\\/\\\\}; item=${item//\"/\\\"}
    out+="${out:+,}\"$item\""
  done
  printf '[%s]' "$out"
}
GATEWAY_ENV_JSON=$(json_strings ${GATEWAY_ENV[@]+"${GATEWAY_ENV[@]}"})
RUNTIME_ENV_JSON=$(json_strings ${RUNTIME_ENV[@]+"${RUNTIME_ENV[@]}"})
COMPARE_ENV_JSON=$(json_strings ${COMPARE_ENV[@]+"${COMPARE_ENV[@]}"})
OPTIONS_JSON=$(printf '{"rounds":%d,"seconds":%d,"warmup":%d,"connections":%d,"routes":%d,"tool":"%s","path":"%s","git":"%s","gateway_env":%s,"runtime_env":%s,"gateway_console_lines":%d,"gateway_console_bytes":%d,"rate_limits":%s,"policies":%s,"transforms":%s,"cache":%s,"validation":%s,"body_transforms":%s,"telemetry":%s,"sampling":%s,"pinned":%s,"server_dll":"%s","compare_dll":"%s","compare_env":%s}' \
  "$ROUNDS" "$SECONDS_PER_RUN" "$WARMUP" "$CONNECTIONS" "$ROUTES" "$TOOL" "$TARGET" "$GIT_REV" "$GATEWAY_ENV_JSON" "$RUNTIME_ENV_JSON" "$GW_LOG_LINES" "$GW_LOG_BYTES" \
  "$( (( RATE_LIMITS )) && echo true || echo false)" "$( (( POLICIES )) && echo true || echo false)" "$( (( TRANSFORMS )) && echo true || echo false)" \
  "$( (( CACHE )) && echo true || echo false)" "$( (( VALIDATION )) && echo true || echo false)" "$( (( BODY_TRANSFORMS )) && echo true || echo false)" \
  "$( (( TELEMETRY )) && echo true || echo false)" "$SAMPLING" \
  "$( (( PIN )) && echo true || echo false)" "$SERVER_DLL" "$COMPARE_DLL" "$COMPARE_ENV_JSON")
echo
dotnet "$BENCH_DLL" report --input "$RAW" --output "$RESULT_FILE" --command "$COMMAND_LINE" --options-json "$OPTIONS_JSON"
