#!/usr/bin/env bash
# The macro benchmark: the release API against a local issuer, under wrk, in one run.
#
#   bash tests/bench/run.sh [--express] [--quick]
#
# Cases, interleaved, ROUNDS (5) rounds: /api/public; /api/public carrying the same Authorization
# header as the protected cases (what the bigger request alone costs); /api/private-scoped with
# one repeated token
# (warm); /api/private-scoped with TOKENS distinct tokens rotated by a Lua script, more than the
# verified-token cache holds (cold). --express also runs Auth0's Express sample
# (express-oauth2-jwt-bearer from npm, installed into a temporary folder) under the same load.
# The server is pinned to core 0 and wrk to core 1; only ratios within one run mean anything, so
# each ratio is the median of the per-round ratios (a round's cases run back to back).
# It also runs the criterion benchmark of one full validation, pinned the same way.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=5 DURATION=10s CONNECTIONS=64 TOKENS=100000 EXPRESS=0
for arg in "$@"; do
  case "$arg" in
    --express) EXPRESS=1 ;;
    --quick) ROUNDS=1 DURATION=3s TOKENS=20000 ;;
    *) echo "usage: $0 [--express] [--quick]" >&2; exit 2 ;;
  esac
done
AUDIENCE="https://quickstarts/api"
. tests/bench/lib.sh
if [ "$EXPRESS" = 1 ] && ! need npm; then
  install_debian nodejs npm
fi
build_release
cargo bench --quiet -p auth --bench validation --no-run 2>/dev/null

echo "== criterion: one full validation (pinned to core $SERVER_CORE)"
taskset -c "$SERVER_CORE" cargo bench --quiet -p auth --bench validation -- \
  "full validation" --warm-up-time 2 --measurement-time 5 >/dev/null 2>&1
estimates=$(ls target/criterion/verify/full*/new/estimates.json)
full_ns=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mean"]["point_estimate"])' "$estimates")

start_issuer
start_api
if [ "$EXPRESS" = 1 ]; then
  echo "== installing express-oauth2-jwt-bearer into $work/express"
  mkdir -p "$work/express"
  (cd "$work/express" && npm init -y >/dev/null && npm install --silent express express-oauth2-jwt-bearer >/dev/null)
  # Auth0's sample API, as its quickstart shows it.
  cat >"$work/express/server.js" <<'JS'
const express = require('express');
const { auth, requiredScopes } = require('express-oauth2-jwt-bearer');
const app = express();
const checkJwt = auth({ audience: process.env.AUDIENCE, issuerBaseURL: process.env.ISSUER });
app.get('/api/public', (req, res) => res.json({ message: "Hello from a public endpoint! You don't need to be authenticated to see this." }));
app.get('/api/private', checkJwt, (req, res) => res.json({ message: 'Hello from a private endpoint! You need to be authenticated to see this.' }));
app.get('/api/private-scoped', checkJwt, requiredScopes('read:messages'), (req, res) => res.json({ message: 'Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.' }));
app.listen(process.env.PORT, '127.0.0.1');
JS
  express_port=$(free_port)
  # exec, so that the PID recorded for cleanup is node's own.
  (cd "$work/express" && PORT="$express_port" ISSUER="$issuer" AUDIENCE="$AUDIENCE" \
    exec taskset -c "$SERVER_CORE" node server.js >"$work/express.log" 2>&1) &
  pids+=($!)
  wait_for "http://127.0.0.1:$express_port/api/public"
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $warm_token" \
    "http://127.0.0.1:$express_port/api/private-scoped")
  [ "$status" = 200 ] || { echo "express sample answered $status" >&2; cat "$work/express.log" >&2; exit 1; }
fi

run_wrk() { # CASE ROUND URL [wrk args...]
  local case=$1 round=$2 url=$3; shift 3
  local out
  out=$(TOKENS_FILE="$work/tokens.txt" taskset -c "$LOAD_CORE" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url")
  local rps p50 p99 non2xx
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$case" "$round" "$rps" "$p50" "$p99" "${non2xx:-0}" >>"$work/results.tsv"
  printf '  %-14s round %s: %10s req/s  p50 %-8s p99 %-8s non-2xx %s\n' "$case" "$round" "$rps" "$p50" "$p99" "${non2xx:-0}"
}

echo "== load: wrk -t1 -c$CONNECTIONS -d$DURATION, $ROUNDS interleaved rounds; server on core $SERVER_CORE, wrk on core $LOAD_CORE"
for round in $(seq 1 "$ROUNDS"); do
  run_wrk public "$round" "$api/api/public"
  run_wrk public_token "$round" "$api/api/public" -H "Authorization: Bearer $warm_token"
  run_wrk warm "$round" "$api/api/private-scoped" -H "Authorization: Bearer $warm_token"
  run_wrk cold "$round" "$api/api/private-scoped" -s tests/bench/rotate.lua
  if [ "$EXPRESS" = 1 ]; then
    express="http://127.0.0.1:$express_port"
    run_wrk express_warm "$round" "$express/api/private-scoped" -H "Authorization: Bearer $warm_token"
    run_wrk express_cold "$round" "$express/api/private-scoped" -s tests/bench/rotate.lua
  fi
done
peak_rss_kib=$(awk '/^VmHWM/ {print $2}' "/proc/$api_pid/status")

python3 - "$work/results.tsv" "$full_ns" "$peak_rss_kib" "$TOKENS" <<'PY'
import os, statistics, sys
results, full_ns, rss_kib, tokens = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rows = {}  # case -> {round: (rps, p50, p99, non2xx)}
for line in open(results):
    case, rnd, rps, p50, p99, non2xx = line.rstrip("\n").split("\t")
    rows.setdefault(case, {})[rnd] = (float(rps), p50, p99, int(non2xx))
rounds = sorted(rows["public"], key=int)
full_us = full_ns / 1000
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
print()
print(f"machine: {os.cpu_count()} cores, {cpu}; server pinned to core 0, wrk to core 1")
print(f"{'case':<14} {'median req/s':>13}  p50 / p99 (per round)")
for case, runs in rows.items():
    lat = ", ".join(f"{runs[r][1]}/{runs[r][2]}" for r in rounds if r in runs)
    bad = sum(v[3] for v in runs.values())
    med = statistics.median(v[0] for v in runs.values())
    print(f"{case:<14} {med:>13,.0f}  {lat}" + (f"  NON-2XX: {bad}" if bad else ""))

def per_round(f, *cases):
    """f over each round's req/s of `cases`, for the rounds that ran all of them."""
    return [f(*(rows[c][r][0] for c in cases)) for r in rounds if all(r in rows.get(c, {}) for c in cases)]
def show(label, values, unit="", target=""):
    if not values:
        return
    rounds_text = ", ".join(f"{v:.2f}" for v in values)
    print(f"{label:<34} {statistics.median(values):8.2f}{unit}  (rounds: {rounds_text}){target}")
ratio = lambda a, b: a / b
overhead_us = lambda slow, fast: (1 / slow - 1 / fast) * 1e6
print()
print(f"criterion full validation: {full_us:.1f} us (medians of per-round values below)")
show("warm / public", per_round(ratio, "warm", "public"), target="   target >= 0.90")
show("warm / public with the header", per_round(ratio, "warm", "public_token"))
show("public with header / public", per_round(ratio, "public_token", "public"))
show("warm overhead over public, us", per_round(overhead_us, "warm", "public"))
cold_us = per_round(overhead_us, "cold", "public")
show("cold overhead over public, us", cold_us)
show("cold overhead / full validation", [v / full_us for v in cold_us], "x", "   target <= 1.3")
show("cold overhead over header, us", per_round(overhead_us, "cold", "public_token"))
show("cold / express cold", per_round(ratio, "cold", "express_cold"), "x", "   target >= 6")
show("warm / express warm", per_round(ratio, "warm", "express_warm"), "x", "   target >= 25")
print(f"peak RSS ({tokens} distinct tokens): {rss_kib / 1024:.1f} MiB   (target <= 64)")
PY
