#!/usr/bin/env bash
# Serve OptLab to a class from one machine: N Streamlit replicas behind HAProxy.
#
#   deploy/run-local.sh                        # one replica per core, students open http://<this-host>:8501
#   OPTLAB_REPLICAS=2 OPTLAB_PORT=8080 deploy/run-local.sh
#
# Needs bash >= 5.1 and HAProxy >= 2.4 (Debian 12's). Runs in the foreground; Ctrl-C (or SIGTERM) stops HAProxy and every replica. If a replica or
# HAProxy stops by itself, the rest are stopped too and the script exits with an error.
#
# Settings (environment variables):
#   OPTLAB_REPLICAS         Streamlit processes (default: the number of cores). One process runs
#                           one script at a time (Python's GIL), so one per core uses the machine.
#   OPTLAB_PORT             port students connect to (default 8501)
#   OPTLAB_BIND             address HAProxy listens on (default 0.0.0.0: the whole network;
#                           127.0.0.1 for this machine only)
#   OPTLAB_REPLICA_PORTS    the replicas' ports, space-separated (default: OPTLAB_PORT+1 ...);
#                           replicas listen on 127.0.0.1 only, students reach them through HAProxy
#   OPTLAB_COOKIE_SECRET    Streamlit's server.cookieSecret, the same for every replica
#                           (default: a new random one at each start)
#   OPTLAB_TUNNEL_TIMEOUT   how long an idle websocket stays open (default 8h: a teaching day)
#   OPTLAB_PYTHON           Python with requirements.txt installed (default: .venv/bin/python of
#                           the repository if it exists, else python3)
#   OPTLAB_RUN_DIR          folder for the rendered HAProxy config and the replicas' logs
#                           (default: a new temporary folder)
#   OPTLAB_HAPROXY          the haproxy program (default: haproxy on PATH, else /usr/sbin/haproxy)
#   OPTLAB_PIN_CPUS         1 (default): replica i runs on core i of the cores this script may use
#                           (round robin when there are more replicas than cores), with taskset;
#                           0: the kernel moves them freely. A replica's sessions run in threads that
#                           take turns on Python's GIL; when the turn passes to a thread on another
#                           core, it starts with cold caches. Measured (bench/load_sessions.py, 50
#                           sessions on one process, 2 cores): 37 ms of CPU per page run unpinned,
#                           25 ms pinned, and p95 4.1 s -> 2.3 s.
#
# The HAProxy configuration is deploy/haproxy.cfg (read it: every setting says why).
# shellcheck disable=SC2015,SC2329  # "check && check || die" is meant; on_signal runs from a trap
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TEMPLATE="$REPO/deploy/haproxy.cfg"

say() { printf 'run-local: %s\n' "$*"; }
die() { printf 'run-local: error: %s\n' "$*" >&2; exit 1; }

# --- settings -------------------------------------------------------------------------------------
REPLICAS="${OPTLAB_REPLICAS:-$(nproc 2>/dev/null || echo 2)}"
PORT="${OPTLAB_PORT:-8501}"
BIND="${OPTLAB_BIND:-0.0.0.0}"
TUNNEL_TIMEOUT="${OPTLAB_TUNNEL_TIMEOUT:-8h}"
[[ "$REPLICAS" =~ ^[0-9]+$ ]] && (( REPLICAS >= 1 && REPLICAS <= 64 )) \
    || die "OPTLAB_REPLICAS must be a whole number from 1 to 64 (got '$REPLICAS')"
[[ "$PORT" =~ ^[0-9]+$ ]] && (( PORT >= 1 && PORT <= 65535 )) || die "OPTLAB_PORT must be a port number (got '$PORT')"

if [[ -n "${OPTLAB_REPLICA_PORTS:-}" ]]; then
    read -r -a PORTS <<< "$OPTLAB_REPLICA_PORTS"
    (( ${#PORTS[@]} == REPLICAS )) || die "OPTLAB_REPLICA_PORTS lists ${#PORTS[@]} ports for $REPLICAS replicas"
else
    PORTS=()
    for ((i = 1; i <= REPLICAS; i++)); do PORTS+=($((PORT + i))); done
fi
for p in "${PORTS[@]}"; do
    [[ "$p" =~ ^[0-9]+$ ]] && (( p >= 1 && p <= 65535 && p != PORT )) || die "bad replica port '$p'"
done

PIN="${OPTLAB_PIN_CPUS:-1}"
[[ "$PIN" == 0 || "$PIN" == 1 ]] || die "OPTLAB_PIN_CPUS must be 0 or 1 (got '$PIN')"

HAPROXY="${OPTLAB_HAPROXY:-$(command -v haproxy || true)}"
[[ -z "$HAPROXY" && -x /usr/sbin/haproxy ]] && HAPROXY=/usr/sbin/haproxy   # Debian keeps it in sbin
if [[ -z "$HAPROXY" || ! -x "$HAPROXY" ]]; then
    die "HAProxy is not installed (it balances the students over the replicas).
    Debian/Ubuntu:  sudo apt-get install haproxy      Fedora:  sudo dnf install haproxy
    macOS:          brew install haproxy
  or serve from one process instead:  .venv/bin/streamlit run app.py   (README: Running it for a class)"
fi

if [[ -n "${OPTLAB_PYTHON:-}" ]]; then
    PY="$OPTLAB_PYTHON"
elif [[ -x "$REPO/.venv/bin/python" ]]; then
    PY="$REPO/.venv/bin/python"
else
    PY="$(command -v python3 || true)"
fi
[[ -n "$PY" ]] && "$PY" -c "import streamlit, optlab" 2>/dev/null \
    || die "no Python with OptLab's requirements (tried '${PY:-python3}'): run
    python3 -m venv .venv && .venv/bin/pip install -r requirements.txt     (or set OPTLAB_PYTHON)"

if [[ -n "${OPTLAB_COOKIE_SECRET:-}" ]]; then
    SECRET="$OPTLAB_COOKIE_SECRET"
else
    SECRET="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(32))')"
fi

RUN_DIR="${OPTLAB_RUN_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/optlab-run.XXXXXX")}"
mkdir -p "$RUN_DIR"

# Every port free before anything starts: a clear message instead of a half-started class.
"$PY" - "$BIND" "$PORT" "${PORTS[@]}" <<'PYEOF' || die "a port is already in use (see above): choose OPTLAB_PORT / OPTLAB_REPLICA_PORTS"
import socket, sys
bind, ports = sys.argv[1], sys.argv[2:]
busy = False
for i, p in enumerate(ports):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((bind if i == 0 else "127.0.0.1", int(p)))
        except OSError as e:
            print(f"run-local: port {p} is not free: {e.strerror}", file=sys.stderr)
            busy = True
sys.exit(1 if busy else 0)
PYEOF

# --- HAProxy config: the template with one server line per replica ----------------------------------
CFG="$RUN_DIR/haproxy.cfg"
SERVERS=""
for ((i = 0; i < REPLICAS; i++)); do
    SERVERS+="    server r$((i + 1)) 127.0.0.1:${PORTS[i]} cookie r$((i + 1))"$'\n'
done
marker='^[[:space:]]*#[[:space:]]*@SERVERS@'
grep -q "$marker" "$TEMPLATE" || die "$TEMPLATE has no '# @SERVERS@' line"
while IFS= read -r line || [[ -n "$line" ]]; do
    if [[ "$line" =~ $marker ]]; then printf '%s' "$SERVERS"; else printf '%s\n' "$line"; fi
done < "$TEMPLATE" > "$CFG"
export OPTLAB_BIND="$BIND" OPTLAB_PORT="$PORT" OPTLAB_TUNNEL_TIMEOUT="$TUNNEL_TIMEOUT"
"$HAPROXY" -c -f "$CFG" > /dev/null || die "HAProxy rejects $CFG (see above)"

# --- start, stop ----------------------------------------------------------------------------------
PIDS=()
NAMES=()
HEALTH_PID=""
stopping=0
stop_all() {
    (( stopping )) && return
    stopping=1
    local pid n
    [[ -n "$HEALTH_PID" ]] && kill -TERM "$HEALTH_PID" 2>/dev/null
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for ((n = 0; n < 100; n++)); do          # up to 10 s for a clean stop, then SIGKILL
        local alive=0
        for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        (( alive )) || break
        sleep 0.1
    done
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
on_signal() { say "stopping (signal $1)"; stop_all; say "stopped"; exit 0; }
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP
trap 'stop_all' EXIT

# Replicas read the shared secret from the environment (not the command line: `ps` shows that).
export STREAMLIT_SERVER_COOKIE_SECRET="$SECRET"
cd "$REPO"   # .streamlit/config.toml: the classroom settings
# One core per replica (OPTLAB_PIN_CPUS above): the cores this script may run on, in order.
PIN_PREFIX=()
CORES=()
if [[ "$PIN" == 1 ]]; then
    if command -v taskset >/dev/null; then
        read -r -a CORES <<< "$("$PY" -c 'import os; print(*sorted(os.sched_getaffinity(0)))' 2>/dev/null || true)"
    else
        say "taskset not found (Debian: util-linux): the replicas are not pinned to cores"
    fi
fi
for ((i = 0; i < REPLICAS; i++)); do
    PIN_PREFIX=()
    (( ${#CORES[@]} > 0 )) && PIN_PREFIX=(taskset -c "${CORES[i % ${#CORES[@]}]}")
    "${PIN_PREFIX[@]}" "$PY" -m streamlit run app.py \
        --server.address 127.0.0.1 --server.port "${PORTS[i]}" --server.headless true \
        --server.fileWatcherType none --browser.gatherUsageStats false \
        > "$RUN_DIR/replica-$((i + 1)).log" 2>&1 &
    PIDS+=($!)
    NAMES+=("replica r$((i + 1)) (port ${PORTS[i]}${PIN_PREFIX[2]:+, core ${PIN_PREFIX[2]}}, log $RUN_DIR/replica-$((i + 1)).log)")
done
unset STREAMLIT_SERVER_COOKIE_SECRET

# Ready when every replica answers /_stcore/health (imports take a few seconds); then HAProxy. In the
# background: bash runs a trap only once a foreground command has finished, `wait` it interrupts.
"$PY" - "${PORTS[@]}" <<'PYEOF' &
import sys, time, urllib.request
deadline = time.monotonic() + 120
for p in sys.argv[1:]:
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{p}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"run-local: replica on port {p} not healthy after 120 s")
        time.sleep(0.3)
PYEOF
HEALTH_PID=$!
wait "$HEALTH_PID" || { say "replicas did not start: see the logs in $RUN_DIR"; exit 1; }
HEALTH_PID=""
"$HAPROXY" -db -f "$CFG" &   # after the replicas are up: no "server is DOWN" noise at start
PIDS+=($!)
NAMES+=("haproxy (config $CFG)")
sleep 0.5
for ((i = 0; i < ${#PIDS[@]}; i++)); do
    kill -0 "${PIDS[i]}" 2>/dev/null || { say "${NAMES[i]} exited at start"; exit 1; }
done
shown="$BIND"; [[ "$BIND" == 0.0.0.0 ]] && shown="$(hostname -I 2>/dev/null | awk '{print $1}')"
pinned="not pinned to cores"; (( ${#CORES[@]} > 0 )) && pinned="one core each, from cores ${CORES[*]}"
say "OptLab is up: http://${shown:-localhost}:$PORT  ($REPLICAS replicas: ports ${PORTS[*]}, $pinned; HAProxy pid ${PIDS[-1]})"
say "config $CFG, logs in $RUN_DIR; Ctrl-C stops everything"

# --- run until a signal, or until one process stops by itself --------------------------------------
set +e
wait -n "${PIDS[@]}"
status=$?
set -e
(( stopping )) && exit 0
for ((i = 0; i < ${#PIDS[@]}; i++)); do
    kill -0 "${PIDS[i]}" 2>/dev/null || say "${NAMES[i]} stopped (exit status $status): stopping the rest"
done
stop_all
exit 1
