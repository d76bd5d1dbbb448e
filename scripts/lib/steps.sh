# Output and timing of the scripts' steps, and the processes they start.

# Re-runs the calling script under scripts/reaper.py (once), so that whatever the stack leaves
# behind is reaped and stopped with it.
run_under_reaper() {
    [ -n "${CHAT_UNDER_REAPER:-}" ] && return 0
    CHAT_UNDER_REAPER=1 exec python3 "$ROOT/scripts/reaper.py" "$0" "$@"
}

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# step LABEL COMMAND...: runs COMMAND in this shell (what it exports stays), its output kept in
# $RUN/setup.log and shown indented as it comes (cargo's and pip's own progress lines), a line
# with the time so far every 10 s, and one with LABEL and the time it took at the end. On
# failure, its last output lines, and exit.
step() {
    local label=$1; shift
    local started=$EPOCHREALTIME
    mkdir -p "$RUN"
    printf '\n### %s\n' "$label" >>"$RUN/setup.log"
    say "$label ..."
    local from follower ticker
    from=$(($(wc -l <"$RUN/setup.log") + 1))
    tail -n "+$from" -s 0.2 -f "$RUN/setup.log" | sed -u 's/^/    /' >&2 &
    follower=$!
    (while sleep 10; do printf '    ... %s: %s so far\n' "$label" "$(elapsed "$started")" >&2; done) &
    ticker=$!
    local rc=0
    "$@" >>"$RUN/setup.log" 2>&1 || rc=$?
    sleep 0.3 # the follower shows the last lines
    kill "$ticker" "$follower" 2>/dev/null || true
    wait "$ticker" "$follower" 2>/dev/null || true
    if [ $rc = 0 ]; then
        say "$label ($(elapsed "$started"))"
        return
    fi
    printf 'error: %s failed (exit %s); its last output (all of it in %s):\n' "$label" "$rc" "$RUN/setup.log" >&2
    sed -n '/^### '"${label//\//\\/}"'$/,$p' "$RUN/setup.log" | tail -n 25 | sed 's/^/  /' >&2
    exit 1
}

# Seconds since an $EPOCHREALTIME reading, e.g. "2.4 s".
elapsed() {
    local now=$EPOCHREALTIME
    local us=$(( ${now//[.,]/} - ${1//[.,]/} ))
    printf '%d.%d s' $((us / 1000000)) $(((us / 100000) % 10))
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_until SECONDS WHAT COMMAND...: retries COMMAND until it succeeds.
wait_until() {
    local seconds=$1 what=$2; shift 2
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || { echo "$what did not come up within ${seconds}s (logs in $RUN)"; return 1; }
        sleep 0.2
    done
}

# start NAME COMMAND...: runs COMMAND in its own process group, output to $RUN/NAME.log.
start() {
    local name=$1; shift
    setsid "$@" >"$RUN/$name.log" 2>&1 &
    echo "$! $name" >>"$RUN/pids"
}
