#!/usr/bin/env bash
# API versioning overhead, side by side in one run: the same echo upstream behind anonymous FuncGateway routes that
# differ only in versioning. Loads, with wrk in alternation (order rotating each round), on 127.0.0.1 only:
#   plain       GET on an unversioned route
#   header      GET with Api-Version: 3 on a Header set with three versions on the same path (three conditions tried)
#   mediatype   GET with Accept: application/json;v=3 on a MediaType set, likewise (Accept parsed per candidate)
#   deprecated  GET /p/v1/x on a Path set whose v1 is deprecated (Deprecation, Sunset and two Link headers set)
# then prints medians and the throughput ratio of each to plain. Stops everything it started.
#
#   bash bench/versioning-overhead.sh [--rounds N] [--seconds S] [--connections C]      (defaults 3, 8, 32)
#
# Needs a Release build (dotnet build FuncGateway.sln -c Release), node_modules (npm ci), wrk, python3.
USAGE="bench/versioning-overhead.sh [--rounds N] [--seconds S] [--connections C]"
# shellcheck source=bench/overhead-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/overhead-common.sh"

UP="http://127.0.0.1:$ECHO_PORT"
cat >"$WORK/routes.json" <<JSON
{ "routes": [
  { "id": "plain", "path": "/plain/{**rest}", "upstream": "$UP", "auth": "anonymous" },
  { "id": "h1", "path": "/h/{**rest}", "upstream": "$UP", "auth": "anonymous", "versionSet": "hdr", "apiVersion": "1" },
  { "id": "h2", "path": "/h/{**rest}", "upstream": "$UP", "auth": "anonymous", "versionSet": "hdr", "apiVersion": "2" },
  { "id": "h3", "path": "/h/{**rest}", "upstream": "$UP", "auth": "anonymous", "versionSet": "hdr", "apiVersion": "3" },
  { "id": "m1", "path": "/m/{**rest}", "upstream": "$UP", "auth": "anonymous", "versionSet": "media", "apiVersion": "1" },
  { "id": "m2", "path": "/m/{**rest}", "upstream": "$UP", "auth": "anonymous", "versionSet": "media", "apiVersion": "2" },
  { "id": "m3", "path": "/m/{**rest}", "upstream": "$UP", "auth": "anonymous", "versionSet": "media", "apiVersion": "3" },
  { "id": "p1", "path": "/p/{version}/{**rest}", "upstream": "$UP", "auth": "anonymous", "versionSet": "path", "apiVersion": "1" },
  { "id": "p2", "path": "/p/{version}/{**rest}", "upstream": "$UP", "auth": "anonymous", "versionSet": "path", "apiVersion": "2" }
] }
JSON
dotnet "$CLI" import "$WORK/routes.json" >/dev/null

set_args=()
for set in hdr:Header media:MediaType; do
  set_args+=("--FuncGateway:Versioning:Sets:${set%%:*}:Scheme=${set#*:}" "--FuncGateway:Versioning:Sets:${set%%:*}:Versions=1,2,3" "--FuncGateway:Versioning:Sets:${set%%:*}:Default=1")
done
dotnet "$SERVER" --urls "http://127.0.0.1:$GW_PORT" --Logging:LogLevel:Default=Warning "${set_args[@]}" \
  --FuncGateway:Versioning:Sets:path:Scheme=Path --FuncGateway:Versioning:Sets:path:Versions=1,2 \
  --FuncGateway:Versioning:Sets:path:Deprecations:1:Date=2026-01-01 --FuncGateway:Versioning:Sets:path:Deprecations:1:Sunset=2026-07-01 \
  --FuncGateway:Versioning:Sets:path:Deprecations:1:SuccessorLink=/p/v2 \
  --FuncGateway:Versioning:Sets:path:Deprecations:1:DeprecationLink=https://developer.example.com/v1 >"$WORK/gateway.log" 2>&1 &
PIDS+=($!)
wait_http "$BASE/_gateway/healthz"
for _ in $(seq 1 50); do [[ $(curl -s -o /dev/null -w '%{http_code}' "$BASE/p/v1/x") == 200 ]] && break; sleep 0.2; done
[[ $(curl -s -D - -o /dev/null "$BASE/p/v1/x" | tr -d '\r' | grep -ci '^deprecation: @1767225600') == 1 ]] \
  || { echo "the deprecated route did not answer with Deprecation" >&2; cat "$WORK/gateway.log" >&2; exit 1; }
[[ $(curl -s "$BASE/h/x" -H "Api-Version: 3" | grep -c '"instance"') == 1 && $(curl -s -o /dev/null -w '%{http_code}' "$BASE/m/x" -H "Accept: application/json;v=3") == 200 ]] \
  || { echo "the versioned routes did not answer" >&2; exit 1; }

load_plain() { run plain /plain/x; }
load_header() { run header /h/x -H "Api-Version: 3"; }
load_mediatype() { run mediatype /m/x -H "Accept: application/json;v=3"; }
load_deprecated() { run deprecated /p/v1/x; }

echo "warm-up"
for name in plain header mediatype deprecated; do "load_$name" >/dev/null; done
alternate plain header mediatype deprecated
report plain header mediatype deprecated
