#!/usr/bin/env bash
# CORS overhead, side by side in one run: the same echo upstream behind two anonymous FuncGateway routes that differ
# only in Cors. Loads, with wrk in alternation (order rotating each round), on 127.0.0.1 only:
#   plain      GET on the route without Cors (no Origin)
#   cors       GET with an allowed Origin on the route with Cors=web (policy evaluated, headers set, upstream's stripped)
#   preflight  OPTIONS with Origin and Access-Control-Request-Method on that route: answered by the gateway (no upstream)
# then prints medians and the throughput ratio of each to plain. Stops everything it started.
#
#   bash bench/cors-overhead.sh [--rounds N] [--seconds S] [--connections C]      (defaults 3, 8, 32)
#
# Needs a Release build (dotnet build FuncGateway.sln -c Release), node_modules (npm ci), wrk, python3.
USAGE="bench/cors-overhead.sh [--rounds N] [--seconds S] [--connections C]"
# shellcheck source=bench/overhead-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/overhead-common.sh"

ORIGIN=https://app.example.com
cat >"$WORK/routes.json" <<JSON
{ "routes": [
  { "id": "plain", "path": "/plain/{**rest}", "methods": ["GET"], "upstream": "http://127.0.0.1:$ECHO_PORT", "stripPrefix": "/plain", "auth": "anonymous" },
  { "id": "cors", "path": "/cors/{**rest}", "methods": ["GET", "PUT"], "upstream": "http://127.0.0.1:$ECHO_PORT", "stripPrefix": "/cors", "auth": "anonymous", "cors": "web" }
] }
JSON
dotnet "$CLI" import "$WORK/routes.json" >/dev/null
printf 'wrk.method = "OPTIONS"\n' >"$WORK/options.lua"

dotnet "$SERVER" --urls "http://127.0.0.1:$GW_PORT" --Logging:LogLevel:Default=Warning \
  "--FuncGateway:Cors:Policies:web:AllowedOrigins=$ORIGIN,https://*.example.org" \
  "--FuncGateway:Cors:Policies:web:AllowedMethods=GET,PUT" "--FuncGateway:Cors:Policies:web:AllowedHeaders=Content-Type" \
  "--FuncGateway:Cors:Policies:web:AllowCredentials=true" >"$WORK/gateway.log" 2>&1 &
PIDS+=($!)
wait_http "$BASE/_gateway/healthz"
for _ in $(seq 1 50); do [[ $(curl -s -o /dev/null -w '%{http_code}' "$BASE/cors/x") == 200 ]] && break; sleep 0.2; done
[[ $(curl -s -D - -o /dev/null "$BASE/cors/x" -H "Origin: $ORIGIN" | tr -d '\r' | grep -ci "^access-control-allow-origin: $ORIGIN") == 1 ]] \
  || { echo "the CORS route did not allow $ORIGIN" >&2; cat "$WORK/gateway.log" >&2; exit 1; }
[[ $(curl -s -o /dev/null -w '%{http_code}' -X OPTIONS "$BASE/cors/x" -H "Origin: $ORIGIN" -H "Access-Control-Request-Method: PUT") == 204 ]] \
  || { echo "the preflight was not answered with 204" >&2; exit 1; }

preflight=(-s "$WORK/options.lua" -H "Origin: $ORIGIN" -H "Access-Control-Request-Method: PUT" -H "Access-Control-Request-Headers: content-type")
echo "warm-up"
run plain /plain/x >/dev/null; run cors /cors/x -H "Origin: $ORIGIN" >/dev/null; run preflight /cors/x "${preflight[@]}" >/dev/null

: >"$WORK/results"
order=(plain cors preflight)
for round in $(seq 1 "$ROUNDS"); do
  for name in "${order[@]}"; do
    case $name in
      plain) run plain /plain/x ;;
      cors) run cors /cors/x -H "Origin: $ORIGIN" ;;
      preflight) run preflight /cors/x "${preflight[@]}" ;;
    esac | tee -a "$WORK/results" | sed "s/^/round $round: /"
  done
  order=("${order[@]:1}" "${order[0]}")
done

report plain cors preflight
