# Shared by run.sh and profile.sh: tools, the release build, a scratch folder cleaned up on exit,
# the local issuer with its minted tokens, and the API pinned to a core. Source it from the
# repository root after setting TOKENS and AUDIENCE.

SERVER_CORE=0 LOAD_CORE=1

need() { command -v "$1" >/dev/null 2>&1; }
install_debian() { # PACKAGE...
  echo "== installing $* (Debian)"
  apt-get update -qq && apt-get install -y -qq "$@" >/dev/null
}
need wrk || install_debian wrk
need curl || install_debian curl

build_release() {
  echo "== building (release)"
  cargo build --release --quiet -p tests --bin bench-issuer
  # The API as deployments build it: no development issuer.
  cargo build --release --quiet -p api --no-default-features --bin api
}

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
  git worktree prune 2>/dev/null || true
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

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Sets $issuer and $warm_token; $work/tokens.txt holds $TOKENS distinct tokens. Each
# FILE:COUNT:BYTES argument also writes COUNT tokens of about BYTES each into $work/FILE.
start_issuer() { # [FILE:COUNT:BYTES...]
  local sized=()
  for set in "$@"; do
    case "$set" in
      dpop=*) sized+=("dpop=$work/${set#dpop=}") ;;
      *) sized+=("$work/$set") ;;
    esac
  done
  echo "== minting $TOKENS distinct tokens ${*:+and $* }and starting the issuer"
  target/release/bench-issuer "$work/tokens.txt" "$TOKENS" "read:messages" "$AUDIENCE" "${sized[@]}" >"$work/issuer.url" &
  pids+=($!)
  for _ in $(seq 1 1200); do [ -s "$work/issuer.url" ] && break; sleep 0.25; done
  issuer=$(head -1 "$work/issuer.url")
  [ -n "$issuer" ] || { echo "the issuer did not start" >&2; exit 1; }
  warm_token=$(head -1 "$work/tokens.txt")
}

# Starts BINARY (default target/release/api) in production against $issuer, pinned to the
# server core, with any extra VAR=value settings; sets $launched_url and $launched_pid. Logs at
# RUST_LOG (default warn), like a quiet deployment. /metrics stays on the API's port (production
# would put it on 7461, which two instances side by side cannot share).
launch_api() { # [BINARY] [VAR=value...]
  local binary=${1:-target/release/api} port
  shift || true
  port=$(free_port)
  env RUST_LOG="${RUST_LOG:-warn}" APP_ENVIRONMENT=production APP__SERVER__HOST=127.0.0.1 \
    APP__SERVER__PORT="$port" APP__SERVER__METRICS_PORT= APP__AUTH__ISSUER="$issuer" \
    APP__AUTH__AUDIENCE="$AUDIENCE" "$@" \
    taskset -c "$SERVER_CORE" "$binary" >>"$work/api.log" 2>&1 &
  launched_pid=$!
  pids+=("$launched_pid")
  launched_url="http://127.0.0.1:$port"
  wait_for "$launched_url/readyz"
}

# Sets $api (its URL) and $api_pid.
start_api() {
  launch_api
  api=$launched_url
  api_pid=$launched_pid
}
