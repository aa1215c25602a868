#!/usr/bin/env bash
# deploy/run-local.sh: run StateTee on this machine the way the Pi runs it, in
# the foreground: the legacy fixture on 127.0.0.1:6970 and the proxy on :6969
# with the engine embedded as shadow (admin API on 127.0.0.1:6971). Ctrl-C
# stops both gracefully (SIGTERM). For the Pi itself, see deploy/RUNBOOK.md.
#
#   deploy/run-local.sh [--port 6969] [--legacy-port 6970] [--admin-port 6971]
#                       [--data-dir data/local] [--no-setup]
#
# It runs deploy/dev-setup.sh (unless --no-setup) and builds statetee (debug)
# unless $STATETEE_BIN names a binary to use. State and logs go to the data
# directory (default data/local, ignored by git); delete it to start afresh.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

port=6969 legacy_port=6970 admin_port=6971 data="data/local" setup=yes
die() { echo "run-local: error: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="${2:?}"; shift 2 ;;
    --legacy-port) legacy_port="${2:?}"; shift 2 ;;
    --admin-port) admin_port="${2:?}"; shift 2 ;;
    --data-dir) data="${2:?}"; shift 2 ;;
    --no-setup) setup=no; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

[ "$setup" = yes ] && deploy/dev-setup.sh
python="$repo/.venv/bin/python"
[ -x "$python" ] || die "no $python: run deploy/dev-setup.sh (or drop --no-setup)"

if [ -n "${STATETEE_BIN:-}" ]; then
  bin="$STATETEE_BIN"
else
  echo "run-local: building statetee (swift build --product statetee)"
  swift build --product statetee
  bin="$(swift build --product statetee --show-bin-path)/statetee"
fi
[ -x "$bin" ] || die "no statetee binary at $bin"

mkdir -p "$data"
data="$(cd "$data" && pwd)"
pids=()
stop() {
  trap - INT TERM EXIT
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "run-local: stopped"
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

# start NAME LOG COMMAND...: run in the background, wait (at most 60 s) for its LISTENING line.
start() {
  local name="$1" log="$2"; shift 2
  : > "$log"
  "$@" > "$log.out" 2>> "$log" &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 600); do
    if grep -q '^LISTENING ' "$log.out" 2>/dev/null; then return 0; fi
    kill -0 "$pid" 2>/dev/null || { cat "$log.out" "$log" >&2; die "$name exited before listening (log: $log)"; }
    sleep 0.1
  done
  die "$name did not listen within 60 s (log: $log)"
}

start "legacy fixture" "$data/legacy.log" \
  "$python" fixtures/legacy-server/server.py --host 127.0.0.1 --port "$legacy_port" \
  --state-file "$data/legacy-state.json"
start "proxy" "$data/proxy.log" \
  "$bin" proxy --port "$port" --primary "http://127.0.0.1:$legacy_port" --shadow embedded \
  --data-dir "$data" --rules fixtures/rules/scorer.yaml --admin-port "$admin_port"

cat <<EOF
run-local: legacy fixture on http://127.0.0.1:$legacy_port   (log: $data/legacy.log)
run-local: proxy on http://127.0.0.1:$port, engine embedded as shadow, admin API on 127.0.0.1:$admin_port   (log: $data/proxy.log)

Try, in another terminal:
  open http://127.0.0.1:$port/  (observer), /player/1, /player/2, /pi.html (the Pi's buttons)
  .venv/bin/python fixtures/sessions/replay.py fixtures/sessions/full-game.jsonl --url http://127.0.0.1:$port --fast
  $bin status --data-dir $data --admin-url http://127.0.0.1:$admin_port
  $bin report --data-dir $data
  $bin switchover --data-dir $data --admin-url http://127.0.0.1:$admin_port
  $bin rollback --data-dir $data --admin-url http://127.0.0.1:$admin_port
Ctrl-C stops both.
EOF
wait -n "${pids[@]}" || true
echo "run-local: a server exited; stopping the other (logs in $data)" >&2
