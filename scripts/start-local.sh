#!/usr/bin/env bash
# Runs FuncGateway locally: Azurite (table service, in memory), two sample echo upstreams, the sample routes, and
# the gateway server in the foreground. Ctrl+C stops everything this script started.
#
#   bash scripts/start-local.sh [--no-build]
#
# Environment: FGW_PORT   the gateway's port (default 7071)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() {
  cat <<'EOF'
Usage: scripts/start-local.sh [--no-build]

Starts Azurite on 127.0.0.1:10002 (or reuses one already listening there), the sample echo upstream on
127.0.0.1:5080 and :5081, imports samples/routes.json, and runs the gateway on 127.0.0.1:7071 (FGW_PORT=<port> to change it).

  --no-build   use the existing Release build instead of building the solution first
  -h, --help   show this help
EOF
}

build=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    -h | --help) usage; exit 0 ;;
    *) printf 'start-local: unknown option %s\n\n' "$arg" >&2; usage >&2; exit 2 ;;
  esac
done

gateway_port=${FGW_PORT:-7071}
azurite_port=10002
echo_ports=(5080 5081)
output=bin/Release/net10.0
server_dll=functions/FuncGateway.Server/$output/FuncGateway.Server.dll
cli_dll=functions/FuncGateway.Cli/$output/fgw.dll
echo_dll=samples/FuncGateway.Samples.Echo/$output/FuncGateway.Samples.Echo.dll
log_dir=.artifacts/local

log() { printf '==> %s\n' "$*"; }
die() { printf 'start-local: %s\n' "$*" >&2; exit 1; }

# --- children: every process started here is stopped on exit, Ctrl+C or TERM -----------------------------------------
children=()
cleanup() {
  trap - EXIT INT TERM
  ((${#children[@]} > 0)) || return 0
  log "stopping (pids ${children[*]})"
  kill -TERM "${children[@]}" 2>/dev/null || true
  for _ in $(seq 1 50); do
    local alive=0 pid
    for pid in "${children[@]}"; do
      if kill -0 "$pid" 2>/dev/null; then alive=1; fi
    done
    ((alive)) || break
    sleep 0.2
  done
  kill -KILL "${children[@]}" 2>/dev/null || true
  wait "${children[@]}" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

is_listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
last_http_status=
http_ok() {
  last_http_status=$(curl --silent --output /dev/null --write-out "%{http_code}" --max-time 2 "$1") || last_http_status=none
  [[ "$last_http_status" == 200 ]]
}

# wait_until DESCRIPTION TIMEOUT_SECONDS PID LOG COMMAND...: polls COMMAND, fails early if PID dies.
wait_until() {
  local description=$1 timeout=$2 pid=$3 logfile=$4
  shift 4
  local waited=0
  last_http_status=
  until "$@"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      [[ -z "$logfile" ]] || tail -n 30 "$logfile" >&2 || true
      die "$description exited before it was ready${logfile:+ (log: $logfile)}"
    fi
    if ((waited >= timeout * 5)); then
      [[ -z "$logfile" ]] || tail -n 30 "$logfile" >&2 || true
      die "$description was not ready after ${timeout}s${last_http_status:+ (last HTTP status: $last_http_status)}${logfile:+; log: $logfile}"
    fi
    if ((waited > 0 && waited % 25 == 0)); then
      log "waiting for $description ($((waited / 5))s${last_http_status:+, last HTTP status: $last_http_status})"
    fi
    sleep 0.2
    waited=$((waited + 1))
  done
}

command -v curl >/dev/null || die "curl is needed to check that the services are up"
command -v node >/dev/null || die "node (20 or later) is needed for Azurite"
command -v dotnet >/dev/null || die "the .NET 10 SDK is needed"

for port in "${echo_ports[@]}"; do
  if is_listening "$port"; then
    die "127.0.0.1:$port (sample echo upstream) is already in use: is an earlier run still going?"
  fi
done
if is_listening "$gateway_port"; then
  die "127.0.0.1:$gateway_port is already in use: stop what runs there or set FGW_PORT"
fi

# --- tools and build ----------------------------------------------------------------------------------------------------
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "npm ci (Azurite)"
  npm ci --no-audit --no-fund
fi

if ((build)); then
  log "dotnet build FuncGateway.sln -c Release"
  dotnet build FuncGateway.sln -c Release -nologo -v quiet
fi
for dll in "$server_dll" "$cli_dll" "$echo_dll"; do
  [[ -f "$dll" ]] || die "$dll is missing: build first (run without --no-build)"
done

mkdir -p "$log_dir"

# --- Azurite --------------------------------------------------------------------------------------------------------------
if is_listening "$azurite_port"; then
  log "reusing what already listens on 127.0.0.1:$azurite_port (an Azurite started earlier)"
else
  log "starting Azurite (tables, in memory) on 127.0.0.1:$azurite_port"
  node_modules/.bin/azurite-table --inMemoryPersistence --disableTelemetry \
    --tableHost 127.0.0.1 --tablePort "$azurite_port" --silent >"$log_dir/azurite.log" 2>&1 &
  children+=($!)
  wait_until "Azurite" 30 "$!" "$log_dir/azurite.log" is_listening "$azurite_port"
fi

# --- echo upstreams -------------------------------------------------------------------------------------------------------
# Run from the output folder so each app finds its appsettings (content root = working directory).
run_dll() {
  local dll=$1
  shift
  cd "$(dirname "$dll")" && exec dotnet "$(basename "$dll")" "$@"
}

echo_pids=()
for i in "${!echo_ports[@]}"; do
  port=${echo_ports[$i]}
  name="echo-$((i + 1))"
  log "starting $name on http://127.0.0.1:$port"
  (run_dll "$echo_dll" --urls "http://127.0.0.1:$port" "--Echo:Instance=$name") >"$log_dir/$name.log" 2>&1 &
  echo_pids+=($!)
  children+=($!)
done
for i in "${!echo_ports[@]}"; do
  port=${echo_ports[$i]}
  wait_until "echo-$((i + 1))" 30 "${echo_pids[$i]}" "$log_dir/echo-$((i + 1)).log" \
    http_ok "http://127.0.0.1:$port/healthz"
done

# --- routes -------------------------------------------------------------------------------------------------------------
export FuncGateway__Storage__ConnectionString=UseDevelopmentStorage=true

log "importing samples/routes.json"
dotnet "$cli_dll" import samples/routes.json || die "fgw import samples/routes.json failed"

# The protected demo route (/secure/...) accepts an API key (policy demo_keys) or Basic demo:demo (policy demo_basic).
log "creating a demo API key and the demo Basic user"
demo_key=$(dotnet "$cli_dll" keys create --consumer demo --name quickstart --tier free 2>/dev/null | sed -n 's/^key: //p') \
  || die "fgw keys create failed"
demo_hash=$(dotnet "$cli_dll" basic hash --password demo --iterations 100000) || die "fgw basic hash failed"
auth_args=(
  "--FuncGateway:Auth:Policies:demo_keys:Type=ApiKey"
  "--FuncGateway:Auth:Policies:demo_basic:Type=Basic"
  "--FuncGateway:Auth:Policies:demo_basic:Users:demo=$demo_hash"
)

# --- gateway (foreground) -------------------------------------------------------------------------------------------------
gateway_url="http://127.0.0.1:$gateway_port"
log "starting the gateway on $gateway_url"
# The gateway answers to its loopback names only (FuncGateway:Forwarding:PublicHosts); any other Host gets 421.
(run_dll "$server_dll" --urls "$gateway_url" "--FuncGateway:Forwarding:PublicHosts=localhost,127.0.0.1,[::1]" "${auth_args[@]}") &
server_pid=$!
children+=("$server_pid")
wait_until "the gateway" 60 "$server_pid" "" http_ok "$gateway_url/_gateway/healthz"

cat <<EOF

  FuncGateway is running on $gateway_url  (routes from samples/routes.json, storage: Azurite on :$azurite_port)

    curl '$gateway_url/echo/hello?x=1'
    curl $gateway_url/api/orders/42
    curl -H 'X-API-Key: $demo_key' $gateway_url/secure/hello     (or: curl -u demo:demo ...)

  Upstreams: echo-1 http://127.0.0.1:${echo_ports[0]}, echo-2 http://127.0.0.1:${echo_ports[1]}  (logs in $log_dir/)
  Press Ctrl+C to stop everything.

EOF

wait "$server_pid"
