# Sourced by bench/run.sh for --warmup-curve and --scale (issue #11): start-up, warm-up and memory of fresh
# processes, where the side-by-side run measures warm ones. Uses run.sh's functions and variables (Azurite, the
# upstream, pinning, seed_routes, start_gateway, now_ms, ...); not meant to be run on its own.

# One 1-s wrk slice against $2, pinned like every load; → "<seconds since $3 at its end> <2xx/3xx req/s>".
slice() { # pid url started_ms
  local out=$WORK/slice.log result requests bad seconds end
  is_running "$1" || die "the server under test exited (see its log)"
  timeout 15 ${LOAD_PIN[@]+"${LOAD_PIN[@]}"} wrk -t1 -c"$CONNECTIONS" -d1s --timeout 2s -s "$BENCH_DIR/wrk-report.lua" "$2" > "$out" 2>&1 || true
  end=$(now_ms)
  result=$(sed -n 's/^BENCH_RESULT //p' "$out")
  requests=$(field requests "$result"); bad=$(field bad_status "$result"); seconds=$(field seconds "$result")
  awk -v r="${requests:-0}" -v b="${bad:-0}" -v s="${seconds:-1}" -v e="$end" -v t0="$3" \
    'BEGIN { printf "%.1f %.0f\n", (e - t0) / 1000, (s > 0 ? (r - b) / s : 0) }'
}

# Back-to-back slices from the moment the server listens until CURVE_SECONDS after its start.
curve() { # name pid url started_ms port → lines "name listening_s" then "name t rps" in $WORK/curve.txt
  local until=$(( $4 + CURVE_SECONDS * 1000 ))
  wait_for_port "$1" "$2" "$5" 60
  echo "$1 listening $(awk -v e="$(now_ms)" -v t0="$4" 'BEGIN { printf "%.2f", (e - t0) / 1000 }')" >> "$WORK/curve.txt"
  while (( $(now_ms) < until )); do
    echo "$1 $(slice "$2" "$3" "$4")" >> "$WORK/curve.txt"
  done
}

if [[ $MODE == warmup-curve ]]; then
  command -v wrk >/dev/null || die "--warmup-curve needs wrk"
  PREFIX=Bench$(date +%H%M%S)$RANDOM
  seed_routes "$PREFIX" "$ROUTES"
  TARGET=/svc$(( (ROUTES + 1) / 2 ))/items/7
  # The forwarder that served no request yet: a new process, its port chosen by the OS, so the curve starts once the
  # port file appears (written when Kestrel listens).
  log "warm-up curve: a fresh bare YARP forwarder, ${CURVE_SECONDS} s"
  rm -f "$WORK/fresh-yarp.port"
  FRESH_STARTED_MS=$(now_ms)
  (cd "$WORK" && exec ${SERVER_PIN[@]+"${SERVER_PIN[@]}"} dotnet "$BENCH_DLL" yarp --upstream "$UPSTREAM" --port-file "$WORK/fresh-yarp.port") > "$WORK/fresh-yarp.log" 2>&1 &
  FRESH_PID=$!; PIDS+=("$FRESH_PID")
  wait_for_file "fresh YARP forwarder" "$FRESH_PID" "$WORK/fresh-yarp.port" 60
  FRESH_PORT=$(cat "$WORK/fresh-yarp.port")
  curve yarp "$FRESH_PID" "http://127.0.0.1:$FRESH_PORT$TARGET" "$FRESH_STARTED_MS" "$FRESH_PORT"
  stop_pid "$FRESH_PID"
  log "warm-up curve: a fresh FuncGateway ($ROUTES routes), ${CURVE_SECONDS} s"
  GW_PORT=$(free_port)
  start_gateway "$GW_PORT" "$PREFIX"
  curve funcgateway "$GW_PID" "http://127.0.0.1:$GW_PORT$TARGET" "$GW_STARTED_MS" "$GW_PORT"
  stop_pid "$GW_PID"
  echo
  echo "warm-up curve ($ROUTES routes, $CONNECTIONS connections, 1-s wrk slices; 2xx/3xx req/s; t = seconds since process start)"
  # The final rate is the median of the last third of the slices; "90%" is the first slice at or above 0.9 of it
  # that is never followed by one below 0.5 of it (a stall after a first good second does not count as warm).
  awk -v n="$CURVE_SECONDS" '
    $2 == "listening" { listen[$1] = $3; next }
    { k = ++count[$1]; t[$1, k] = $2; r[$1, k] = $3 }
    END {
      split("yarp funcgateway", names, " ")
      printf "%-6s", "slice"; for (j = 1; j <= 2; j++) printf " %20s", names[j]; printf "\n"
      max = count["yarp"] > count["funcgateway"] ? count["yarp"] : count["funcgateway"]
      for (k = 1; k <= max; k++) {
        printf "%-6d", k
        for (j = 1; j <= 2; j++) { m = names[j]; if (k <= count[m]) printf " %9.1f s %7d/s", t[m, k], r[m, k]; else printf " %20s", "" }
        printf "\n"
      }
      for (j = 1; j <= 2; j++) {
        m = names[j]; c = count[m]; from = int(c * 2 / 3) + 1; nn = 0
        for (k = from; k <= c; k++) v[++nn] = r[m, k]
        for (a = 1; a <= nn; a++) for (b = a + 1; b <= nn; b++) if (v[b] < v[a]) { x = v[a]; v[a] = v[b]; v[b] = x }
        final[m] = nn ? (nn % 2 ? v[(nn + 1) / 2] : (v[nn / 2] + v[nn / 2 + 1]) / 2) : 0
        warm[m] = "never"
        for (k = 1; k <= c; k++) {
          if (r[m, k] < 0.9 * final[m]) continue
          ok = 1; for (q = k + 1; q <= c; q++) if (r[m, q] < 0.5 * final[m]) ok = 0
          if (ok) { warm[m] = sprintf("%.1f s", t[m, k]); break }
        }
        printf "%-12s listening after %s s; final %d req/s; 90%% of it at the end of the slice ending %s after start\n", m, listen[m], final[m], warm[m]
      }
      if (final["yarp"] > 0) printf "final rate funcgateway / yarp: %.3f\n", final["funcgateway"] / final["yarp"]
    }' "$WORK/curve.txt"
elif [[ $MODE == scale ]]; then
  # RSS under sustained load (--scale-sustain): the GC lets garbage of the oldest generation build up between its
  # collections, so one reading after 5 s says little about what an instance needs in service.
  # Where a process's RSS is, from /proc/PID/smaps (reading it does not stop the process, unlike attaching a tool):
  # file-backed pages (assemblies, native libraries), the runtime's executable memory (JIT code and stubs, mapped from
  # its "doublemapper" memfd), and anonymous memory (the GC heap, native allocations, stacks). With an admin key among
  # --gateway-env, the gateway's own /_gateway/status adds the GC's figures.
  memory_breakdown() { # pid [gateway port] → one line in $WORK/scale.txt
    local by_kind gc=''
    by_kind=$(awk '
      /^[0-9a-f]+-[0-9a-f]+ / { kind = ($6 ~ /doublemapper/) ? "code" : ($6 ~ /^\// ? "files" : "anon"); next }
      /^Rss:/ { rss[kind] += $2 }
      END { printf "files %.1f, JIT code and stubs %.1f, anonymous %.1f MiB", rss["files"] / 1024, rss["code"] / 1024, rss["anon"] / 1024 }' "/proc/$1/smaps")
    if [[ -n ${2-} && -n $ADMIN_KEY ]]; then
      gc=$(curl -s --max-time 5 -H "X-Admin-Key: $ADMIN_KEY" "http://127.0.0.1:$2/_gateway/status" | node -e '
        let s = ""; process.stdin.on("data", d => s += d).on("end", () => { try {
          const p = JSON.parse(s).process, g = p.gc, m = b => (b / 1048576).toFixed(1);
          process.stdout.write(`; GC (${g.mode}) heap ${m(g.heapSizeBytes)}, committed ${m(g.committedBytes)}, fragmented ${m(g.fragmentedBytes)} MiB, ` +
            `collections ${g.collections.join("/")}, JIT methods ${p.jit.methods}, threads ${p.threads.process}`);
        } catch { process.stdout.write("; /_gateway/status unreadable"); } });' || true)
    fi
    printf '%6s RSS by kind: %s%s\n' "" "$by_kind" "$gc" >> "$WORK/scale.txt"
    # The mapped files that hold the most of it (assemblies: the pages of their code and metadata that were touched).
    awk '
      /^[0-9a-f]+-[0-9a-f]+ / { file = ($6 ~ /^\// && $6 !~ /doublemapper/) ? $6 : ""; next }
      /^Rss:/ && file != "" { rss[file] += $2 }
      END { for (f in rss) { n = split(f, parts, "/"); printf "%d %s\n", rss[f], parts[n] } }' "/proc/$1/smaps" \
      | sort -rn \
      | awk -v top="${SCALE_TOP_FILES:-12}" -v pad="" 'NR <= top { line = line sprintf("%s %.1f, ", $2, $1 / 1024) } END { sub(/, $/, "", line); printf "%6s largest files (MiB): %s\n", pad, line }' >> "$WORK/scale.txt"
  }
  ADMIN_KEY=''
  for kv in ${GATEWAY_ENV[@]+"${GATEWAY_ENV[@]}"}; do
    [[ $kv != FuncGateway__Admin__Key=* ]] || ADMIN_KEY=${kv#*=}
  done

  sustain() { # pid url → one line in $WORK/scale.txt
    timeout $(( SCALE_SUSTAIN + 30 )) ${LOAD_PIN[@]+"${LOAD_PIN[@]}"} wrk -t1 -c"$CONNECTIONS" -d"${SCALE_SUSTAIN}s" "$2" > "$WORK/scale-sustain.log" 2>&1 &
    local load=$! t
    : > "$WORK/rss.txt"
    for (( t = 10; t <= SCALE_SUSTAIN; t += 10 )); do
      sleep 10
      awk '/^VmRSS/ { printf "%.1f\n", $2 / 1024 }' "/proc/$1/status" >> "$WORK/rss.txt"
    done
    wait "$load" || true
    sort -n -o "$WORK/rss.txt" "$WORK/rss.txt"
    printf '%6s sustained %d s more: RSS every 10 s lowest %s, median %s, highest %s MiB   %s\n' "" "$SCALE_SUSTAIN" \
      "$(head -1 "$WORK/rss.txt")" "$(awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }' "$WORK/rss.txt")" \
      "$(tail -1 "$WORK/rss.txt")" "$(grep -m1 'Requests/sec' "$WORK/scale-sustain.log" | tr -s ' ')" >> "$WORK/scale.txt"
  }
  echo "scale: routes, start to the first proxied 200 of the last route, RSS after 5 s of load" > "$WORK/scale.txt"
  IFS=, read -ra COUNTS <<< "$SCALE_ROUTES"
  for n in "${COUNTS[@]}"; do
    (( n >= 1 && n <= 20000 )) || die "--scale-routes: $n is not in [1, 20000]"
    PREFIX=Bench$(date +%H%M%S)$RANDOM
    seed_routes "$PREFIX" "$n"
    GW_PORT=$(free_port)
    start_gateway "$GW_PORT" "$PREFIX"
    # curl every 20 ms until the table's last route answers from the upstream: the process has started, read the
    # whole table, built its snapshot and forwarded once.
    until [[ $(curl -s -o "$WORK/probe.body" -w '%{http_code}' --max-time 2 "http://127.0.0.1:$GW_PORT/svc$n/items/7" || true) == 200 ]]; do
      is_running "$GW_PID" || die "FuncGateway exited during start-up"
      (( $(now_ms) - GW_STARTED_MS < 120000 )) || die "no proxied 200 within 120 s"
      sleep 0.02
    done
    FIRST_MS=$(( $(now_ms) - GW_STARTED_MS ))
    timeout 30 ${LOAD_PIN[@]+"${LOAD_PIN[@]}"} wrk -t1 -c"$CONNECTIONS" -d5s "http://127.0.0.1:$GW_PORT/svc$(( (n + 1) / 2 ))/items/7" > "$WORK/scale-load.log" 2>&1 || true
    RSS=$(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$GW_PID/status")
    HWM=$(awk '/^VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$GW_PID/status")
    printf '%6d routes   first proxied response %5d ms   RSS %6s MiB (peak %s MiB)   %s\n' \
      "$n" "$FIRST_MS" "$RSS" "$HWM" "$(grep -m1 'Requests/sec' "$WORK/scale-load.log" | tr -s ' ')" >> "$WORK/scale.txt"
    (( SCALE_SUSTAIN == 0 )) || sustain "$GW_PID" "http://127.0.0.1:$GW_PORT/svc$(( (n + 1) / 2 ))/items/7"
    memory_breakdown "$GW_PID" "$GW_PORT"
    # From 1,000 rows the gateway compacts its heap once after the first snapshot (log event 1008): how long it took.
    COMPACTED=$(grep -m1 -o 'compacted the heap: .*' "$WORK/gateway.log" || true)
    [[ -z $COMPACTED ]] || printf '%6s %s\n' "" "$COMPACTED" >> "$WORK/scale.txt"
    stop_pid "$GW_PID"
  done
  # The same after-load RSS of the bare forwarder (no routes), for reference.
  timeout 30 ${LOAD_PIN[@]+"${LOAD_PIN[@]}"} wrk -t1 -c"$CONNECTIONS" -d5s "$YARP/svc1/items/7" > "$WORK/scale-load.log" 2>&1 || true
  printf 'bare YARP (no routes) RSS %s MiB after 5 s of load\n' "$(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$YARP_PID/status")" >> "$WORK/scale.txt"
  (( SCALE_SUSTAIN == 0 )) || sustain "$YARP_PID" "$YARP/svc1/items/7"
  memory_breakdown "$YARP_PID"
  echo
  cat "$WORK/scale.txt"
fi
