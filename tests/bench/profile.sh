#!/usr/bin/env bash
# A CPU profile of the release API under the benchmark's load: perf record -g on the server
# (pinned to core 0) while wrk (core 1) sends warm or cold requests, then the top symbols.
#
#   bash tests/bench/profile.sh [warm|cold] [SECONDS]
#
# warm: /api/private-scoped with one repeated token (token cache hits); cold: TOKENS distinct
# tokens rotated by rotate.lua (full validations). Needs root for perf (installed from Debian).
set -euo pipefail
cd "$(dirname "$0")/../.."

CASE=${1:-warm} SECONDS_=${2:-10} TOKENS=100000 AUDIENCE="https://quickstarts/api"
case "$CASE" in warm | cold) ;; *) echo "usage: $0 [warm|cold] [SECONDS]" >&2; exit 2 ;; esac
. tests/bench/lib.sh
need perf || install_debian linux-perf
build_release
start_issuer
start_api

args=(-H "Authorization: Bearer $warm_token")
[ "$CASE" = cold ] && args=(-s tests/bench/rotate.lua)
echo "== $CASE load for ${SECONDS_}s, perf record -g on the API (pid $api_pid)"
TOKENS_FILE="$work/tokens.txt" taskset -c "$LOAD_CORE" \
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
