#!/usr/bin/env bash
# Authentication overhead, side by side in one run: the same echo upstream behind three FuncGateway routes that
# differ only in Auth — anonymous, a JWT policy (RS256, static JWKS) and an API key policy (key in Azurite, cached).
# Loads them with wrk in alternation (order rotating each round), on 127.0.0.1 only, then prints medians and the
# throughput ratio of each auth route to the anonymous one. Stops everything it started.
#
#   bash bench/auth-overhead.sh [--rounds N] [--seconds S] [--connections C]      (defaults 3, 8, 32)
#
# Needs a Release build (dotnet build FuncGateway.sln -c Release), node_modules (npm ci), wrk, openssl, python3.
set -euo pipefail

ROUNDS=3 SECONDS_PER_RUN=8 CONNECTIONS=32
while (( $# > 0 )); do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    *) echo "usage: bench/auth-overhead.sh [--rounds N] [--seconds S] [--connections C]" >&2; exit 2 ;;
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

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fgw-auth-bench.XXXXXX")
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

# An RSA key pair made here; the gateway trusts its public half as a static JWKS, the token is signed with openssl.
openssl genrsa -out "$WORK/key.pem" 2048 2>/dev/null
read -r JWKS TOKEN < <(python3 - "$WORK/key.pem" <<'PY'
import base64, json, subprocess, sys, time
pem = sys.argv[1]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
mod = subprocess.run(["openssl", "rsa", "-in", pem, "-noout", "-modulus"], capture_output=True, text=True, check=True).stdout.split("=")[1].strip()
jwks = json.dumps({"keys": [{"kty": "RSA", "kid": "bench", "use": "sig", "alg": "RS256", "n": b64(bytes.fromhex(mod)), "e": "AQAB"}]}, separators=(",", ":"))
header = b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "bench"}).encode())
payload = b64(json.dumps({"iss": "https://bench.local/", "aud": "api://bench", "sub": "user-1", "scope": "bench.read",
                          "roles": ["reader"], "exp": int(time.time()) + 3600}).encode())
sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", pem], input=f"{header}.{payload}".encode(), capture_output=True, check=True).stdout
print(jwks, f"{header}.{payload}.{b64(sig)}")
PY
)

cat >"$WORK/routes.json" <<JSON
{ "routes": [
  { "id": "open", "path": "/open/{**rest}", "upstream": "http://127.0.0.1:$ECHO_PORT", "stripPrefix": "/open", "auth": "anonymous" },
  { "id": "jwt", "path": "/jwt/{**rest}", "upstream": "http://127.0.0.1:$ECHO_PORT", "stripPrefix": "/jwt", "auth": "bench_jwt" },
  { "id": "key", "path": "/key/{**rest}", "upstream": "http://127.0.0.1:$ECHO_PORT", "stripPrefix": "/key", "auth": "bench_keys" }
] }
JSON
dotnet "$CLI" import "$WORK/routes.json" >/dev/null
API_KEY=$(dotnet "$CLI" keys create --consumer bench 2>/dev/null | sed -n 's/^key: //p')

dotnet "$SERVER" --urls "http://127.0.0.1:$GW_PORT" --Logging:LogLevel:Default=Warning \
  "--FuncGateway:Auth:Policies:bench_jwt:Type=Jwt" "--FuncGateway:Auth:Policies:bench_jwt:Issuer=https://bench.local/" \
  "--FuncGateway:Auth:Policies:bench_jwt:Audiences=api://bench" "--FuncGateway:Auth:Policies:bench_jwt:Jwks=$JWKS" \
  "--FuncGateway:Auth:Policies:bench_keys:Type=ApiKey" >"$WORK/gateway.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$GW_PORT/_gateway/healthz"
BASE="http://127.0.0.1:$GW_PORT"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$BASE/jwt/x" -H "Authorization: Bearer $TOKEN") == 200 ]] || { echo "JWT route refused the token" >&2; cat "$WORK/gateway.log" >&2; exit 1; }
[[ $(curl -s -o /dev/null -w '%{http_code}' "$BASE/key/x" -H "X-API-Key: $API_KEY") == 200 ]] || { echo "API key route refused the key" >&2; exit 1; }

run() { # name path [header]
  local args=(-t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency)
  [[ -n ${3-} ]] && args+=(-H "$3")
  wrk "${args[@]}" "$BASE$2" | awk -v n="$1" '/Requests\/sec/ {rps=$2} /Non-2xx/ {bad=$NF} /^ +99%/ {p99=$2} END {print n, rps, p99, (bad==""?0:bad)}'
}
echo "warm-up"
run open /open/x >/dev/null; run jwt /jwt/x "Authorization: Bearer $TOKEN" >/dev/null; run key /key/x "X-API-Key: $API_KEY" >/dev/null

: >"$WORK/results"
order=(open jwt key)
for round in $(seq 1 "$ROUNDS"); do
  for name in "${order[@]}"; do
    case $name in
      open) run open /open/x ;;
      jwt) run jwt /jwt/x "Authorization: Bearer $TOKEN" ;;
      key) run key /key/x "X-API-Key: $API_KEY" ;;
    esac | tee -a "$WORK/results" | sed "s/^/round $round: /"
  done
  order=("${order[@]:1}" "${order[0]}")
done

python3 - "$WORK/results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
by = {}
for name, rps, p99, bad in rows:
    by.setdefault(name, []).append((float(rps), p99, int(bad)))
med = {k: statistics.median(r for r, _, _ in v) for k, v in by.items()}
print(f"\n{'route':8} {'median req/s':>13} {'vs anonymous':>13}  p99 per round            non-2xx")
for k in ("open", "jwt", "key"):
    print(f"{k:8} {med[k]:13.0f} {med[k] / med['open']:13.2f}  {' '.join(p for _, p, _ in by[k]):24} {sum(b for _, _, b in by[k])}")
PY
