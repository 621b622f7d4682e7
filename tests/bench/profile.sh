#!/usr/bin/env bash
# A CPU profile of the release API under the benchmark's load: perf record -g on the server
# (pinned to core 0) while wrk (core 1) sends warm or cold requests, then the top symbols.
#
#   bash tests/bench/profile.sh [warm|cold|dpop] [SECONDS]
#
# warm: /api/private-scoped with one repeated token (token cache hits); cold: TOKENS distinct
# tokens rotated by rotate.lua (full validations); dpop: one DPoP-bound token with a fresh ES256
# proof per request (dpop.lua), recorded in the memory replay store. Needs root for perf
# (installed from Debian).
set -euo pipefail
cd "$(dirname "$0")/../.."

CASE=${1:-warm} SECONDS_=${2:-10} TOKENS=100000 AUDIENCE="https://quickstarts/api"
case "$CASE" in warm | cold | dpop) ;; *) echo "usage: $0 [warm|cold|dpop] [SECONDS]" >&2; exit 2 ;; esac
. tests/bench/lib.sh
need perf || install_debian linux-perf
build_release
if [ "$CASE" = dpop ]; then
  start_issuer "dpop=dpop:1:$((SECONDS_ * 15000)):https://api.bench/api/private-scoped"
  launch_api target/release/api APP__AUTH__PUBLIC_URL=https://api.bench \
    APP__AUTH__DPOP__MAX_AGE_SECS=3600
  api=$launched_url api_pid=$launched_pid
else
  start_issuer
  start_api
fi

args=(-H "Authorization: Bearer $warm_token")
[ "$CASE" = cold ] && args=(-s tests/bench/rotate.lua)
[ "$CASE" = dpop ] && args=(-s tests/bench/dpop.lua)
echo "== $CASE load for ${SECONDS_}s, perf record -g on the API (pid $api_pid)"
tokens_file="$work/tokens.txt"
[ "$CASE" = dpop ] && tokens_file="$work/dpop-1.txt"
DPOP_TOKEN_FILE="$work/dpop.token" TOKENS_FILE="$tokens_file" taskset -c "$LOAD_CORE" \
  wrk -t1 -c64 -d"$((SECONDS_ + 2))s" "${args[@]}" "$api/api/private-scoped" >"$work/wrk.txt" &
wrk_pid=$!
sleep 1
# cpu-clock works where hardware counters are not exposed (as in most VMs).
perf record -e cpu-clock -F 999 -g -p "$api_pid" -o "$work/perf.data" -- sleep "$SECONDS_" 2>/dev/null
wait "$wrk_pid" || true
grep -E "Requests/sec" "$work/wrk.txt" || true
# KEEP_PERF_DATA=path keeps the profile for `perf report -i path`.
[ -n "${KEEP_PERF_DATA:-}" ] && cp "$work/perf.data" "$KEEP_PERF_DATA"
echo "== top symbols, self time (% of all samples)"
perf report -i "$work/perf.data" --no-children --sort symbol --stdio 2>/dev/null |
  grep -E '^ +[0-9.]+%' | sed -E 's/[[:space:]]+-[[:space:]]+-[[:space:]]*$//' | head -n 25
