#!/usr/bin/env bash
# The macro benchmark: the release API against a local issuer, under wrk, in one run.
#
#   bash tests/bench/run.sh [--express] [--quick]
#
# Cases, interleaved, ROUNDS rounds: /api/public; /api/public carrying the same Authorization
# header as the protected cases (what the bigger request alone costs); /api/private-scoped with
# one repeated token
# (warm); /api/private-scoped with TOKENS distinct tokens rotated by a Lua script, more than the
# verified-token cache holds (cold). --express also runs Auth0's Express sample
# (express-oauth2-jwt-bearer from npm, installed into a temporary folder) under the same load.
# The server is pinned to core 0 and wrk to core 1; only ratios within one run mean anything.
# It also runs the criterion benchmark of one full validation, pinned the same way.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=3 DURATION=10s CONNECTIONS=64 TOKENS=100000 EXPRESS=0
for arg in "$@"; do
  case "$arg" in
    --express) EXPRESS=1 ;;
    --quick) ROUNDS=1 DURATION=3s TOKENS=20000 ;;
    *) echo "usage: $0 [--express] [--quick]" >&2; exit 2 ;;
  esac
done
AUDIENCE="https://quickstarts/api"
SERVER_CORE=0 LOAD_CORE=1

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk; then
  echo "== installing wrk (Debian)"
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
if [ "$EXPRESS" = 1 ] && ! need npm; then
  echo "== installing nodejs and npm (Debian)"
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi

echo "== building (release)"
cargo build --release --quiet -p tests --bin bench-issuer
# The API as deployments build it: no development issuer.
cargo build --release --quiet -p api --no-default-features --bin api
cargo bench --quiet -p auth --bench validation --no-run 2>/dev/null

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_for() { # URL
  for _ in $(seq 1 600); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "timed out waiting for $1" >&2
  exit 1
}

echo "== criterion: one full validation (pinned to core $SERVER_CORE)"
taskset -c "$SERVER_CORE" cargo bench --quiet -p auth --bench validation -- \
  "full validation" --warm-up-time 2 --measurement-time 5 >/dev/null 2>&1
estimates=$(ls target/criterion/verify/full*/new/estimates.json)
full_ns=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mean"]["point_estimate"])' "$estimates")

echo "== minting $TOKENS distinct tokens and starting the issuer"
target/release/bench-issuer "$work/tokens.txt" "$TOKENS" "read:messages" "$AUDIENCE" >"$work/issuer.url" &
pids+=($!)
for _ in $(seq 1 1200); do [ -s "$work/issuer.url" ] && break; sleep 0.25; done
issuer=$(head -1 "$work/issuer.url")
[ -n "$issuer" ] || { echo "the issuer did not start" >&2; exit 1; }
warm_token=$(head -1 "$work/tokens.txt")

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
api_port=$(free_port)
RUST_LOG=warn APP__SERVER__PORT="$api_port" APP__AUTH__ISSUER="$issuer" APP__AUTH__AUDIENCE="$AUDIENCE" \
  taskset -c "$SERVER_CORE" target/release/api >"$work/api.log" 2>&1 &
api_pid=$!
pids+=("$api_pid")
wait_for "http://127.0.0.1:$api_port/readyz"

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

api="http://127.0.0.1:$api_port"
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
import statistics, sys
results, full_ns, rss_kib, tokens = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rows = {}
for line in open(results):
    case, _, rps, p50, p99, non2xx = line.rstrip("\n").split("\t")
    rows.setdefault(case, []).append((float(rps), p50, p99, int(non2xx)))
def median(case):
    return statistics.median(r[0] for r in rows[case])
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
import os
print()
print(f"machine: {os.cpu_count()} cores, {cpu}; server pinned to core 0, wrk to core 1")
print(f"{'case':<14} {'median req/s':>13}  p50 / p99 (per round)")
for case, runs in rows.items():
    lat = ", ".join(f"{p50}/{p99}" for _, p50, p99, _ in runs)
    bad = sum(r[3] for r in runs)
    print(f"{case:<14} {median(case):>13,.0f}  {lat}" + (f"  NON-2XX: {bad}" if bad else ""))
public, warm, cold = median("public"), median("warm"), median("cold")
overhead_us = (1 / cold - 1 / public) * 1e6
print()
print(f"criterion full validation: {full_ns / 1000:.1f} us")
print(f"warm / public:             {warm / public:.2f}   (target >= 0.90)")
if "public_token" in rows:
    print(f"warm / public with header: {warm / median('public_token'):.2f}   (the auth work alone)")
print(f"cold overhead per request: {overhead_us:.1f} us = {overhead_us / (full_ns / 1000):.2f} x full validation   (target <= 1.3)")
if "public_token" in rows:
    vs_header_us = (1 / cold - 1 / median("public_token")) * 1e6
    print(f"  over public with header: {vs_header_us:.1f} us = {vs_header_us / (full_ns / 1000):.2f} x full validation")
print(f"peak RSS ({tokens} distinct tokens): {rss_kib / 1024:.1f} MiB   (target <= 64)")
if "express_warm" in rows:
    print(f"cold / express cold:       {cold / median('express_cold'):.1f} x   (target >= 6)")
    print(f"warm / express warm:       {warm / median('express_warm'):.1f} x   (target >= 25)")
PY
