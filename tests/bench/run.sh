#!/usr/bin/env bash
# The macro benchmark: the release API against a local issuer, under wrk, in one run.
#
#   bash tests/bench/run.sh [--express] [--quick] [--baseline REV] [--dpop-only]
#
# Cases, interleaved, ROUNDS (5) rounds: /api/public; /api/public carrying the same Authorization
# header as the protected cases (what the bigger request alone costs); /api/private-scoped with
# one repeated token
# (warm); /api/private-scoped with TOKENS distinct tokens rotated by a Lua script, more than the
# verified-token cache holds (cold); the cold load again with LARGE tokens of about 3.9 KiB
# (cold_4k: cached, with the most claims per token byte, so they weigh most against the cache's
# memory budget) and of 8 KiB (cold_8k: too large to cache, checked in full each time).
# For each case it also reads the server's own CPU time from /proc/PID/stat, user and kernel
# apart, per request: the cold target is stated on user CPU, which the load generator's
# wake-ups on the other core (kernel time) do not blur. --express also runs Auth0's Express sample
# (express-oauth2-jwt-bearer from npm, installed into a temporary folder) under the same load.
# The server is pinned to core 0 and wrk to core 1; only ratios within one run mean anything, so
# each ratio is the median of the per-round ratios (a round's cases run back to back).
# It also runs the criterion benchmark of one full validation, pinned the same way.
# The tower adapter: the axum example (auth/examples/axum_quickstart.rs), release-built, serves
# the same warm and cold loads (axum_warm, axum_cold) beside the actix API, on the same core.
# --baseline REV also builds the API at git revision REV (in a worktree, with a target folder of
# its own) and runs the warm and cold loads on it (base_warm, base_cold) in the same rounds: the
# A/B of a change to the actix path.
# DPoP's proof key cache: a third instance with it off (auth.dpop.proof_key_cache_max_bytes = 0)
# serves dpop_nocache_bearer and dpop_nocache in the same rounds: the A/B of the cache.
# --dpop-only runs /api/public and the DPoP cases alone.
# Last, the memory replay store is filled to its default byte bound and its RSS read
# (auth/examples/replay_store_memory.rs).
# DPoP: a second API instance (so that its replay store does not count in the first one's RSS)
# serves dpop_bearer (the warm Bearer route) and dpop_warm (the same route with a DPoP-bound
# token and a fresh ES256 proof per request, from PROOFS pre-minted proofs per round, recorded in
# the memory replay store), each for DPOP_DURATION; their difference is the per-request cost of
# DPoP, set against criterion's time of one proof verification plus one replay-store insert.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=5 DURATION=10s CONNECTIONS=64 TOKENS=100000 LARGE=20000 EXPRESS=0 BASELINE= DPOP_ONLY=0
DPOP_DURATION=3s PROOFS=80000 DPOP_URL="https://api.bench/api/private-scoped"
while [ $# -gt 0 ]; do
  case "$1" in
    --express) EXPRESS=1 ;;
    --quick) ROUNDS=1 DURATION=3s TOKENS=20000 LARGE=5000 PROOFS=60000 ;;
    --baseline) BASELINE=${2:?--baseline needs a git revision}; shift ;;
    --dpop-only) DPOP_ONLY=1 ;;
    *) echo "usage: $0 [--express] [--quick] [--baseline REV] [--dpop-only]" >&2; exit 2 ;;
  esac
  shift
done
AUDIENCE="https://quickstarts/api"
. tests/bench/lib.sh
if [ "$EXPRESS" = 1 ] && ! need npm; then
  install_debian nodejs npm
fi
build_release
cargo build --release --quiet --locked -p oauth2-jwt-bearer --example axum_quickstart --features tower,axum
if [ -n "$BASELINE" ]; then
  echo "== building the API at $BASELINE (release), for the A/B"
  git worktree add --detach --force "$work/baseline" "$BASELINE" >/dev/null
  cargo build --release --quiet --manifest-path "$work/baseline/Cargo.toml" \
    --target-dir target/bench-baseline -p api --no-default-features --bin api
  baseline_bin=target/bench-baseline/release/api
fi
cargo bench --quiet -p oauth2-jwt-bearer --features testing --bench validation --no-run 2>/dev/null

echo "== criterion: one full validation (pinned to core $SERVER_CORE)"
taskset -c "$SERVER_CORE" cargo bench --quiet -p oauth2-jwt-bearer --features testing --bench validation -- \
  "full validation" --warm-up-time 2 --measurement-time 5 >/dev/null 2>&1
mean_ns() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mean"]["point_estimate"])' "$1"; }
full_ns=$(mean_ns "$(ls target/criterion/verify/full*/new/estimates.json)")
echo "== criterion: one DPoP proof verification and one replay-store insert"
taskset -c "$SERVER_CORE" cargo bench --quiet -p oauth2-jwt-bearer --features testing --bench validation -- \
  "dpop/" --warm-up-time 2 --measurement-time 5 >/dev/null 2>&1
proof_ns=$(mean_ns "$(ls target/criterion/dpop/proof*/new/estimates.json)")
insert_ns=$(mean_ns "$(ls target/criterion/dpop/memory*/new/estimates.json)")

start_issuer "tokens-4k.txt:$LARGE:3990" "tokens-8k.txt:$((LARGE / 4)):8192" \
  "dpop=dpop:$ROUNDS:$PROOFS:$DPOP_URL"
start_api
launch_api target/release/api APP__AUTH__PUBLIC_URL=https://api.bench \
  APP__AUTH__DPOP__MAX_AGE_SECS=3600 APP__AUTH__DPOP__REPLAY_CAPACITY=10000000 \
  APP__AUTH__DPOP__REPLAY_PER_CLIENT=10000000
dpop_api=$launched_url dpop_pid=$launched_pid
launch_api target/release/api APP__AUTH__PUBLIC_URL=https://api.bench \
  APP__AUTH__DPOP__MAX_AGE_SECS=3600 APP__AUTH__DPOP__REPLAY_CAPACITY=10000000 \
  APP__AUTH__DPOP__REPLAY_PER_CLIENT=10000000 APP__AUTH__DPOP__PROOF_KEY_CACHE_MAX_BYTES=0
nocache_api=$launched_url nocache_pid=$launched_pid
dpop_token=$(cat "$work/dpop.token")
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: DPoP $dpop_token" \
  -H "DPoP: $(tail -1 "$work/dpop-$ROUNDS.txt")" "$dpop_api/api/private-scoped")
[ "$status" = 200 ] || { echo "the DPoP instance answered $status" >&2; cat "$work/api.log" >&2; exit 1; }
clock_ticks=$(getconf CLK_TCK)

# The axum example, with the Express sample's variables; it has no /readyz, so wait until the
# warm token passes.
axum_port=$(free_port)
ISSUER_BASE_URL="$issuer" AUDIENCE="$AUDIENCE" PORT="$axum_port" RUST_LOG=warn \
  taskset -c "$SERVER_CORE" target/release/examples/axum_quickstart >"$work/axum.log" 2>&1 &
axum_pid=$!
pids+=("$axum_pid")
axum="http://127.0.0.1:$axum_port"
for _ in $(seq 1 600); do
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $warm_token" \
    "$axum/api/private-scoped" || true)
  [ "$status" = 200 ] && break
  sleep 0.1
done
[ "$status" = 200 ] || { echo "the axum example answered $status" >&2; cat "$work/axum.log" >&2; exit 1; }
if [ -n "$BASELINE" ]; then
  launch_api "$baseline_bin"
  baseline_api=$launched_url baseline_pid=$launched_pid
fi
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
  express_pid=$!
  pids+=("$express_pid")
  wait_for "http://127.0.0.1:$express_port/api/public"
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $warm_token" \
    "http://127.0.0.1:$express_port/api/private-scoped")
  [ "$status" = 200 ] || { echo "express sample answered $status" >&2; cat "$work/express.log" >&2; exit 1; }
fi

# The user and system CPU clock ticks of PID so far (fields 14 and 15 of /proc/PID/stat).
cpu_ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }

run_wrk() { # CASE ROUND URL [wrk args...] (TOKENS_FILE picks the rotated tokens)
  local case=$1 round=$2 url=$3; shift 3
  local out before after server_pid=${server_pid:-$api_pid}
  before=$(cpu_ticks "$server_pid")
  out=$(TOKENS_FILE="${TOKENS_FILE:-$work/tokens.txt}" taskset -c "$LOAD_CORE" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url")
  after=$(cpu_ticks "$server_pid")
  local rps p50 p99 non2xx requests user_us sys_us
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  read -r user_us sys_us < <(python3 -c 'import sys
b, a, n, hz = sys.argv[1].split(), sys.argv[2].split(), int(sys.argv[3]), int(sys.argv[4])
print(*((int(a[i]) - int(b[i])) / hz * 1e6 / max(n, 1) for i in (0, 1)))' "$before" "$after" "$requests" "$clock_ticks")
  local peak_kib
  peak_kib=$(awk '/^VmHWM/ {print $2}' "/proc/$server_pid/status")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$case" "$round" "$rps" "$p50" "$p99" "${non2xx:-0}" "$user_us" "$sys_us" >>"$work/results.tsv"
  printf '  %-19s round %s: %10s req/s  p50 %-8s p99 %-8s non-2xx %s  server CPU/req: user %.1f us, sys %.1f us  peak RSS so far %.1f MiB\n' \
    "$case" "$round" "$rps" "$p50" "$p99" "${non2xx:-0}" "$user_us" "$sys_us" "$(awk -v k="$peak_kib" 'BEGIN {print k / 1024}')"
}

echo "== load: wrk -t1 -c$CONNECTIONS -d$DURATION, $ROUNDS interleaved rounds; server on core $SERVER_CORE, wrk on core $LOAD_CORE"
for round in $(seq 1 "$ROUNDS"); do
  run_wrk public "$round" "$api/api/public"
  if [ "$DPOP_ONLY" = 0 ]; then
    run_wrk public_token "$round" "$api/api/public" -H "Authorization: Bearer $warm_token"
    run_wrk warm "$round" "$api/api/private-scoped" -H "Authorization: Bearer $warm_token"
    run_wrk cold "$round" "$api/api/private-scoped" -s tests/bench/rotate.lua
    TOKENS_FILE="$work/tokens-4k.txt" run_wrk cold_4k "$round" "$api/api/private-scoped" -s tests/bench/rotate.lua
    TOKENS_FILE="$work/tokens-8k.txt" run_wrk cold_8k "$round" "$api/api/private-scoped" -s tests/bench/rotate.lua
  fi
  DURATION=$DPOP_DURATION server_pid=$dpop_pid run_wrk dpop_bearer "$round" "$dpop_api/api/private-scoped" -H "Authorization: Bearer $warm_token"
  DURATION=$DPOP_DURATION server_pid=$dpop_pid DPOP_TOKEN_FILE="$work/dpop.token" TOKENS_FILE="$work/dpop-$round.txt" \
    run_wrk dpop_warm "$round" "$dpop_api/api/private-scoped" -s tests/bench/dpop.lua
  DURATION=$DPOP_DURATION server_pid=$nocache_pid run_wrk dpop_nocache_bearer "$round" "$nocache_api/api/private-scoped" -H "Authorization: Bearer $warm_token"
  DURATION=$DPOP_DURATION server_pid=$nocache_pid DPOP_TOKEN_FILE="$work/dpop.token" TOKENS_FILE="$work/dpop-$round.txt" \
    run_wrk dpop_nocache "$round" "$nocache_api/api/private-scoped" -s tests/bench/dpop.lua
  if [ "$DPOP_ONLY" = 0 ]; then
    server_pid=$axum_pid run_wrk axum_warm "$round" "$axum/api/private-scoped" -H "Authorization: Bearer $warm_token"
    server_pid=$axum_pid run_wrk axum_cold "$round" "$axum/api/private-scoped" -s tests/bench/rotate.lua
  fi
  if [ -n "$BASELINE" ]; then
    server_pid=$baseline_pid run_wrk base_warm "$round" "$baseline_api/api/private-scoped" -H "Authorization: Bearer $warm_token"
    server_pid=$baseline_pid run_wrk base_cold "$round" "$baseline_api/api/private-scoped" -s tests/bench/rotate.lua
  fi
  if [ "$EXPRESS" = 1 ]; then
    express="http://127.0.0.1:$express_port"
    server_pid=$express_pid run_wrk express_warm "$round" "$express/api/private-scoped" -H "Authorization: Bearer $warm_token"
    server_pid=$express_pid run_wrk express_cold "$round" "$express/api/private-scoped" -s tests/bench/rotate.lua
  fi
done
peak_rss_kib=$(awk '/^VmHWM/ {print $2}' "/proc/$api_pid/status")

dpop_rss_kib=$(awk '/^VmHWM/ {print $2}' "/proc/$dpop_pid/status")

python3 - "$work/results.tsv" "$full_ns" "$peak_rss_kib" "$TOKENS" "$proof_ns" "$insert_ns" "$dpop_rss_kib" <<'PY'
import os, statistics, sys
results, full_ns, rss_kib, tokens = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
proof_us, insert_us, dpop_rss_kib = float(sys.argv[5]) / 1000, float(sys.argv[6]) / 1000, int(sys.argv[7])
rows = {}  # case -> {round: (rps, p50, p99, non2xx)}
cpu_rows = {}  # case -> {round: (user us/request, system us/request)}
for line in open(results):
    case, rnd, rps, p50, p99, non2xx, user_us, sys_us = line.rstrip("\n").split("\t")
    rows.setdefault(case, {})[rnd] = (float(rps), p50, p99, int(non2xx))
    cpu_rows.setdefault(case, {})[rnd] = (float(user_us), float(sys_us))
rounds = sorted(rows["public"], key=int)
full_us = full_ns / 1000
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
print()
print(f"machine: {os.cpu_count()} cores, {cpu}; server pinned to core 0, wrk to core 1")
print(f"{'case':<19} {'median req/s':>13}  p50 / p99 (per round)")
for case, runs in rows.items():
    lat = ", ".join(f"{runs[r][1]}/{runs[r][2]}" for r in rounds if r in runs)
    bad = sum(v[3] for v in runs.values())
    med = statistics.median(v[0] for v in runs.values())
    print(f"{case:<19} {med:>13,.0f}  {lat}" + (f"  NON-2XX: {bad}" if bad else ""))

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
print()
print(f"{'server CPU per request, us':<28} {'user':>8} {'system':>8}   (medians of per-round values)")
for case, runs in cpu_rows.items():
    user = statistics.median(v[0] for v in runs.values())
    system = statistics.median(v[1] for v in runs.values())
    print(f"{case:<28} {user:8.1f} {system:8.1f}")
def cpu_over(case, base, field=0):
    return [cpu_rows[case][r][field] - cpu_rows[base][r][field] for r in rounds if r in cpu_rows.get(case, {})]
cold_user = cpu_over("cold", "public")
show("cold user CPU over public, us", cold_user)
show("cold user CPU over public / full", [v / full_us for v in cold_user], "x", "   target <= 1.3")
show("cold system CPU over public, us", cpu_over("cold", "public", 1))
show("cold_8k user CPU over public, us", cpu_over("cold_8k", "public"))
print()
print("the two adapters, and the actix path against the baseline revision (when given):")
show("axum warm / actix warm", per_round(ratio, "axum_warm", "warm"))
show("axum cold / actix cold", per_round(ratio, "axum_cold", "cold"))
axum_cold_user = cpu_over("axum_cold", "public")
show("axum cold user CPU over public / full", [v / full_us for v in axum_cold_user], "x")
show("actix warm / baseline warm", per_round(ratio, "warm", "base_warm"), target="   target >= 0.97")
show("actix cold / baseline cold", per_round(ratio, "cold", "base_cold"), target="   target >= 0.97")
if "base_cold" in cpu_rows:
    show("cold user CPU: actix / baseline", [cpu_rows["cold"][r][0] / cpu_rows["base_cold"][r][0] for r in rounds if r in cpu_rows["base_cold"]], "x")
    show("warm user CPU: actix / baseline", [cpu_rows["warm"][r][0] / cpu_rows["base_warm"][r][0] for r in rounds if r in cpu_rows["base_warm"]], "x")
print()
print(f"peak RSS ({tokens} distinct tokens, then 3.9 KiB and 8 KiB ones): {rss_kib / 1024:.1f} MiB   (target <= 64)")
print()
dpop_unit = proof_us + insert_us
print(f"criterion: one DPoP proof verification (ES256) {proof_us:.1f} us, one memory replay-store insert {insert_us:.2f} us")
dpop_wall = per_round(overhead_us, "dpop_warm", "dpop_bearer")
show("dpop_warm / dpop_bearer", per_round(ratio, "dpop_warm", "dpop_bearer"))
show("DPoP overhead over Bearer, us", dpop_wall)
show("DPoP overhead / (proof + insert)", [v / dpop_unit for v in dpop_wall], "x")
dpop_user = cpu_over("dpop_warm", "dpop_bearer")
show("DPoP user CPU over Bearer, us", dpop_user)
show("DPoP user CPU / (proof + insert)", [v / dpop_unit for v in dpop_user], "x", "   target <= 1.15 (key cache on)")
nocache_user = cpu_over("dpop_nocache", "dpop_nocache_bearer")
show("key cache off: user CPU over Bearer", nocache_user)
show("key cache off: / (proof + insert)", [v / dpop_unit for v in nocache_user], "x")
show("DPoP user CPU: cache on / off", [a / b for a, b in zip(dpop_user, nocache_user) if b], "x")
show("dpop_warm / dpop_nocache (req/s)", per_round(ratio, "dpop_warm", "dpop_nocache"))
print(f"peak RSS of the DPoP instance (every proof of the run recorded): {dpop_rss_kib / 1024:.1f} MiB")
PY

echo
echo "== the memory replay store filled to its default bound (64 MiB), in a process of its own"
cargo run --quiet --release --locked -p oauth2-jwt-bearer --example replay_store_memory
