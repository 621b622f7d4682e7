#!/usr/bin/env bash
# Side-by-side A/B of two API configurations (or two binaries) under the same load, in one run:
# both servers pinned to core 0 (only one is loaded at a time), wrk on core 1, interleaved
# rounds, and the median of the per-round ratios B/A.
#
#   bash tests/bench/ab.sh [warm|cold|public] ROUNDS 'A env vars' 'B env vars'
#   e.g. bash tests/bench/ab.sh cold 5 'APP__SERVER__WORKERS=2' 'APP__SERVER__WORKERS=1'
#
# API_A / API_B name other binaries (default target/release/api for both), so that a change can
# be measured against a copy of the binary built before it.
set -euo pipefail
cd "$(dirname "$0")/../.."

CASE=${1:?case} ROUNDS=${2:?rounds} ENV_A=${3:-} ENV_B=${4:-}
TOKENS=100000 AUDIENCE="https://quickstarts/api"
. tests/bench/lib.sh
build_release
start_issuer

# $ENV_A and $ENV_B are word-split on purpose: each word is one VAR=value.
# shellcheck disable=SC2086
launch_api "${API_A:-}" $ENV_A
url_a=$launched_url
# shellcheck disable=SC2086
launch_api "${API_B:-}" $ENV_B
url_b=$launched_url

path=/api/private-scoped args=(-H "Authorization: Bearer $warm_token")
[ "$CASE" = cold ] && args=(-s tests/bench/rotate.lua)
[ "$CASE" = public ] && path=/api/public
rps() { TOKENS_FILE="$work/tokens.txt" taskset -c "$LOAD_CORE" wrk -t1 -c64 -d5s "${args[@]}" "$1$path" |
  awk '/^Requests\/sec/ {print $2}'; }
for round in $(seq "$ROUNDS"); do
  a=$(rps "$url_a"); b=$(rps "$url_b")
  echo "round $round: A $a req/s, B $b req/s" | tee -a "$work/ab.txt"
done
python3 - "$work/ab.txt" <<'PY'
import re, statistics, sys
pairs = [tuple(map(float, re.findall(r"([\d.]+) req/s", l))) for l in open(sys.argv[1])]
ratios = [b / a for a, b in pairs]
print(f"B/A median of per-round ratios: {statistics.median(ratios):.3f} (rounds: {', '.join(f'{r:.3f}' for r in ratios)})")
PY
