#!/usr/bin/env bash
# Runs bench/run.sh several times (fresh processes each time) and reports every ratio per run and its median over the
# runs. One run's ratios carry the per-process spread of tiered/PGO compilation (an A/A run of two identical builds
# differed by 9% in CPU per request), so comparisons under ~10% need the median over several processes. See
# bench/README.md "Repeated runs".
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/repeat.sh N [run.sh options]
  Runs `bench/run.sh [options]` N times (N >= 1; the first run builds unless --no-build is given, the others reuse
  that build), then prints, for every ratio in the results (CPU per request, throughput, p99), the value of each run
  and the median over the runs. Writes bench/results/repeat-<timestamp>.json with the per-run values and medians.
EOF
}

[[ ${1:-} =~ ^[1-9][0-9]*$ ]] || { usage >&2; exit 2; }
RUNS=$1
shift

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v node >/dev/null || { echo "repeat.sh: node is needed to read the results" >&2; exit 1; }

files=()
for ((run = 1; run <= RUNS; run++)); do
  args=("$@")
  if ((run > 1)) && [[ " $* " != *" --no-build "* ]]; then
    args+=(--no-build)
  fi
  marker=$(mktemp)
  echo "==> run $run of $RUNS: bench/run.sh ${args[*]}"
  bash "$BENCH_DIR/run.sh" "${args[@]}"
  newest=$(find "$BENCH_DIR/results" -maxdepth 1 -name '2*.json' -newer "$marker" | sort | tail -n 1)
  rm -f "$marker"
  [[ -n $newest ]] || { echo "repeat.sh: run $run wrote no result file" >&2; exit 1; }
  files+=("$newest")
done

OUT=$BENCH_DIR/results/repeat-$(date -u +%Y%m%dT%H%M%SZ).json
node - "$OUT" "${files[@]}" <<'EOF'
const fs = require('fs');
const [out, ...files] = process.argv.slice(2);
const runs = files.map(f => JSON.parse(fs.readFileSync(f, 'utf8')));
const median = values => {
  const v = values.filter(x => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const keys = [...new Set(runs.flatMap(r => Object.keys(r.ratios ?? {})))]
  .filter(k => !k.endsWith('_by_round'))
  .sort();
const table = {};
for (const key of keys) {
  const values = runs.map(r => r.ratios?.[key] ?? null);
  table[key] = { runs: values, median: median(values) };
}
const invalid = runs.filter(r => r.valid === false).length;
fs.writeFileSync(out, JSON.stringify({ files, invalid_runs: invalid, ratios: table }, null, 2) + '\n');
const width = Math.max(...keys.map(k => k.length));
console.log(`\n${runs.length} runs${invalid ? ` (${invalid} marked invalid by run.sh)` : ''}; per run, then the median:`);
for (const key of keys) {
  const { runs: values, median: m } = table[key];
  const cells = values.map(v => (v === null ? '-' : v.toFixed(3)).padStart(7)).join(' ');
  console.log(`${key.padEnd(width)} ${cells}   median ${m === null ? '-' : m.toFixed(3)}`);
}
console.log(`\nwritten: ${out}`);
EOF
