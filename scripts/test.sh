#!/usr/bin/env bash
# Runs every test of the repository: the one command README and CI call.
#
#   bash scripts/test.sh
#
# Installs the pinned Azurite (npm ci) and, when missing, the Debian packages faketime, chromium, redis-server and dnsmasq (as root), restores, builds
# (Release) and tests the whole solution, then prints the totals read from the TRX results as a last line
# `N passed, N failed` (`, N skipped` when some did not run).
# Exits non-zero when a test failed, when dotnet test failed, when no test ran, or when a further check failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

export DOTNET_NOLOGO=1
export DOTNET_CLI_TELEMETRY_OPTOUT=1

solution=FuncGateway.sln
results_root=TestResults
results_dir="$results_root/run-$(date -u +%Y%m%dT%H%M%SZ)"

step() { printf '\n==> %s\n' "$*"; }

step "npm ci (Azurite for the integration tests)"
npm ci --no-audit --no-fund

# A Debian package a test needs: installed when missing and this is root (CI runs as root on a fresh machine: one
# update, then one install per package), else a warning saying what the test will do without it.
apt_updated=0
debian_package() {
  local dpkg_name=$1 package=$2 as_root_without=$3 elsewhere_without=$4
  if command -v dpkg >/dev/null 2>&1 && dpkg -s "$dpkg_name" >/dev/null 2>&1; then
    echo "$package is installed."
  elif [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    if ((apt_updated == 0)); then
      apt-get update -qq && apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" \
      || echo "warning: could not install $package; $as_root_without"
  else
    echo "warning: $package is missing and this is not root; $elsewhere_without (apt-get install $package)."
  fi
}

step "faketime (libfaketime, for the test of two gateways with skewed clocks)"
debian_package libfaketime faketime "the clock-skew test will be skipped." "the clock-skew test will be skipped"

# Playwright's own browser download cannot be reached: Debian's chromium is the browser. As root (and in CI) the
# browser test never skips: without chromium it fails, saying so.
step "chromium (headless, driven by Playwright for the browser CORS and dashboard tests)"
debian_package chromium chromium "the browser CORS and dashboard tests will fail." "the browser CORS and dashboard tests will be skipped"

step "redis-server (for the response cache's shared-tier test)"
debian_package redis-server redis-server "the shared-tier test will fail." "the shared-tier test will fail"

step "dnsmasq (a real DNS server for the dns and srv discovery tests)"
debian_package dnsmasq dnsmasq "the DNS discovery tests will fail." "the DNS discovery tests will be skipped"

step "dotnet restore $solution"
dotnet restore "$solution"

step "dotnet build $solution -c Release"
dotnet build "$solution" -c Release --no-restore

step "dotnet test $solution -c Release (results in $results_dir)"
rm -rf "$results_root"
mkdir -p "$results_dir"
test_exit=0
# A hung test is killed after 10 minutes (and reported) rather than eating the whole CI budget.
dotnet test "$solution" -c Release --no-build \
  --logger "trx" \
  --results-directory "$results_dir" \
  --blame-hang-timeout 10m --blame-hang-dump-type none \
  || test_exit=$?

failed_checks=()
# shellcheck disable=SC2317 # called by the further checks below, once there are any
run_check() {
  local name=$1
  shift
  step "check: $name"
  if "$@"; then
    echo "check passed: $name"
  else
    echo "check FAILED: $name"
    failed_checks+=("$name")
  fi
}

# ---------------------------------------------------------------------------------------------------------------------
# Further checks go here, before the summary, one line each:   run_check "bicep lint" bash scripts/bicep-lint.sh
# A failing check fails the run; the test summary below is still printed last.
# ---------------------------------------------------------------------------------------------------------------------

step "summary"
# Sum the <Counters> of every TRX file; list failed tests. The last output line is the counts, for the shell.
summary_output=$(node - "$results_dir" <<'NODE'
const fs = require("fs");
const path = require("path");

const files = [];
const walk = (dir) => {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full);
    else if (entry.name.endsWith(".trx")) files.push(full);
  }
};
walk(process.argv[2]);

const decode = (s) => s
  .replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, "\"").replace(/&apos;/g, "'")
  .replace(/&#x([0-9a-fA-F]+);/g, (_, h) => String.fromCodePoint(parseInt(h, 16)))
  .replace(/&#([0-9]+);/g, (_, d) => String.fromCodePoint(parseInt(d, 10)))
  .replace(/&amp;/g, "&");
const attributes = (tag) => {
  const result = {};
  for (const m of tag.matchAll(/([A-Za-z_:][\w.:-]*)="([^"]*)"/g)) result[m[1]] = decode(m[2]);
  return result;
};

const totals = { total: 0, executed: 0, passed: 0, failed: 0 };
const failedOutcomes = new Set(["Failed", "Error", "Timeout", "Aborted"]);
for (const file of files) {
  const xml = fs.readFileSync(file, "utf8");
  const counters = xml.match(/<Counters\b[^>]*>/);
  if (counters) {
    const c = attributes(counters[0]);
    const n = (k) => Number.parseInt(c[k] ?? "0", 10) || 0;
    totals.total += n("total");
    totals.executed += n("executed");
    totals.passed += n("passed");
    totals.failed += n("failed") + n("error") + n("timeout") + n("aborted");
  }
  for (const m of xml.matchAll(/<UnitTestResult\b[^>]*>/g)) {
    const r = attributes(m[0]);
    if (failedOutcomes.has(r.outcome)) console.log(`  FAILED  ${r.testName}  (${path.basename(file)})`);
  }
}
const skipped = Math.max(0, totals.total - totals.executed);
console.log(`${files.length} ${totals.passed} ${totals.failed} ${skipped}`);
NODE
) || summary_output="0 0 0 0"
counts=${summary_output##*$'\n'}
if [[ "$summary_output" == *$'\n'* ]]; then
  echo "Failed tests:"
  printf '%s\n' "${summary_output%$'\n'*}"
fi
read -r trx_files passed failed skipped <<<"$counts"

status=0
echo "TRX files: $trx_files in $results_dir"
if ((test_exit != 0)); then
  echo "dotnet test exited with code $test_exit."
  status=1
fi
if ((failed > 0)); then
  status=1
fi
if ((passed + failed == 0)); then
  echo "No test ran."
  status=1
fi
if ((${#failed_checks[@]} > 0)); then
  echo "Failed checks: ${failed_checks[*]}"
  status=1
fi

line="$passed passed, $failed failed"
if ((skipped > 0)); then
  line="$line, $skipped skipped"
fi
echo "$line"
exit "$status"
