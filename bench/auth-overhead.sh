#!/usr/bin/env bash
# Authentication overhead, side by side in one run: the same echo upstream behind three FuncGateway routes that
# differ only in Auth — anonymous, a JWT policy (RS256, static JWKS) and an API key policy (key in Azurite, cached).
# Loads them with wrk in alternation (order rotating each round), on 127.0.0.1 only, then prints medians and the
# throughput ratio of each auth route to the anonymous one. Stops everything it started.
#
#   bash bench/auth-overhead.sh [--rounds N] [--seconds S] [--connections C]      (defaults 3, 8, 32)
#
# Needs a Release build (dotnet build FuncGateway.sln -c Release), node_modules (npm ci), wrk, openssl, python3.
USAGE="bench/auth-overhead.sh [--rounds N] [--seconds S] [--connections C]"
# shellcheck source=bench/overhead-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/overhead-common.sh"

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
[[ $(curl -s -o /dev/null -w '%{http_code}' "$BASE/jwt/x" -H "Authorization: Bearer $TOKEN") == 200 ]] || { echo "JWT route refused the token" >&2; cat "$WORK/gateway.log" >&2; exit 1; }
[[ $(curl -s -o /dev/null -w '%{http_code}' "$BASE/key/x" -H "X-API-Key: $API_KEY") == 200 ]] || { echo "API key route refused the key" >&2; exit 1; }

echo "warm-up"
run open /open/x >/dev/null; run jwt /jwt/x -H "Authorization: Bearer $TOKEN" >/dev/null; run key /key/x -H "X-API-Key: $API_KEY" >/dev/null

: >"$WORK/results"
order=(open jwt key)
for round in $(seq 1 "$ROUNDS"); do
  for name in "${order[@]}"; do
    case $name in
      open) run open /open/x ;;
      jwt) run jwt /jwt/x -H "Authorization: Bearer $TOKEN" ;;
      key) run key /key/x -H "X-API-Key: $API_KEY" ;;
    esac | tee -a "$WORK/results" | sed "s/^/round $round: /"
  done
  order=("${order[@]:1}" "${order[0]}")
done

report open jwt key
