# Shared by scripts/dev and scripts/test: install what is missing, start and stop the local stack.
# Every process started here is recorded in $RUN/pids (one process group each) and stopped by
# stop_stack, so nothing else on the machine is touched.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=$ROOT/.venv

# Re-runs the calling script under scripts/reaper.py (once), so that whatever the stack leaves
# behind is reaped and stopped with it.
run_under_reaper() {
    [ -n "${CHAT_UNDER_REAPER:-}" ] && return 0
    CHAT_UNDER_REAPER=1 exec python3 "$ROOT/scripts/reaper.py" "$0" "$@"
}

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Debian packages, with sudo when not root.
apt_install() {
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    command -v apt-get >/dev/null || die "please install: $* (no apt-get here)"
    say "installing $* with apt-get"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

# The project's .venv with moto and cargo-lambda, reinstalled when the requirements change.
ensure_venv() {
    local req=$ROOT/scripts/requirements.txt stamp=$VENV/.requirements
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating .venv"
        python3 -m venv "$VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    fi
    if ! cmp -s "$req" "$stamp"; then
        say "installing Python tools into .venv (moto, cargo-lambda)"
        "$VENV/bin/pip" install -q --disable-pip-version-check -r "$req" && cp "$req" "$stamp"
    fi
    export PATH="$VENV/bin:$PATH"
}

ensure_redis_server() {
    command -v redis-server >/dev/null || apt_install redis-server
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
        [ $SECONDS -lt $deadline ] || die "$what did not come up within ${seconds}s (logs in $RUN)"
        sleep 0.2
    done
}

# start NAME COMMAND...: runs COMMAND in its own process group, output to $RUN/NAME.log unless
# LOG_TO_TERMINAL names it.
start() {
    local name=$1; shift
    if [ "${LOG_TO_TERMINAL:-}" = "$name" ]; then
        setsid "$@" &
    else
        setsid "$@" >"$RUN/$name.log" 2>&1 &
    fi
    echo "$! $name" >>"$RUN/pids"
}

stack_alive() {
    [ -f "$RUN/pids" ] || return 1
    local pid name
    while read -r pid name; do kill -0 -- "-$pid" 2>/dev/null && return 0; done <"$RUN/pids"
    return 1
}

stop_stack() {
    local groups
    groups=$(cut -d' ' -f1 "$RUN/pids" 2>/dev/null) || return 0
    rm -f "$RUN/pids"
    # cargo lambda watch starts each function instance in a session of its own: note them too.
    local pid children
    children=$(for pid in $groups; do pgrep -P "$pid"; done || true)
    for pid in $groups; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    for _ in $(seq 50); do
        local alive=0
        for pid in $groups $children; do kill -0 "$pid" 2>/dev/null && alive=1 || true; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for pid in $groups; do kill -KILL -- "-$pid" 2>/dev/null || true; done
    for pid in $children; do kill -KILL "$pid" 2>/dev/null || true; done
}

# For scripts/test and scripts/bench: free ports, a Redis of their own, and cleanup on exit
# that keeps $RUN (the logs) only when something failed. The tests stop and restart this Redis
# with $RUN/start-redis to prove the cache is optional; its pidfile finds the last instance.
start_private_redis() {
    mkdir -p "$RUN"
    API_PORT=$(free_port) MOTO_PORT=$(free_port) SQS_PORT=$(free_port) REDIS_PORT=$(free_port) WORKER_PORT=$(free_port)
    export RUN REDIS_PORT
    cat >"$RUN/start-redis" <<SH
#!/bin/sh
exec redis-server --bind 127.0.0.1 --port $REDIS_PORT --save "" --appendonly no \\
    --daemonize yes --pidfile "$RUN/redis.pid" --logfile "$RUN/redis.log"
SH
    chmod +x "$RUN/start-redis"
    trap finish_private EXIT
    trap 'exit 130' INT TERM
    "$RUN/start-redis"
    wait_until 10 "redis" port_open "$REDIS_PORT"
}

finish_private() {
    local rc=$?
    stop_stack
    [ -f "$RUN/redis.pid" ] && kill "$(cat "$RUN/redis.pid")" 2>/dev/null
    if [ $rc = 0 ]; then rm -rf "$RUN"; else say "failed; the stack's logs are in $RUN"; fi
}

# Environment every process of the stack shares: the SDK's standard endpoint setting and
# dummy credentials that moto accepts.
stack_env() {
    export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT" AWS_ENDPOINT_URL_SQS="http://127.0.0.1:$SQS_PORT"
    export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
    export CACHE_URL="redis://127.0.0.1:$REDIS_PORT"
    export API_URL="http://127.0.0.1:$API_PORT"
    export RUST_LOG=${RUST_LOG:-info}
}

# start_stack [WATCH FLAGS]: moto, tables and queues, the functions behind `cargo lambda watch`,
# the poller. CARGO_PROFILE=release builds and runs release binaries.
# DynamoDB and SQS run in two moto processes (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SQS), so the
# emulator (one Python process each) uses two cores; the README's Performance section has the
# worker's throughput before and after.
# Needs RUN, MOTO_PORT, SQS_PORT, REDIS_PORT, API_PORT, WORKER_PORT; Redis must already listen on REDIS_PORT.
start_stack() {
    local watch_flags=("$@") profile=debug build_flags=()
    if [ "${CARGO_PROFILE:-debug}" = release ]; then
        profile=release build_flags=(--release) watch_flags+=(--release)
    fi
    stack_env
    start moto "$VENV/bin/python" "$ROOT/localstack/emulator.py" "$MOTO_PORT"
    start moto-sqs "$VENV/bin/python" "$ROOT/localstack/emulator.py" "$SQS_PORT"
    wait_until 30 "moto" port_open "$MOTO_PORT"
    wait_until 30 "moto (SQS)" port_open "$SQS_PORT"
    "$VENV/bin/python" "$ROOT/localstack/bootstrap.py" >"$RUN/resources.env" || die "creating tables and queues failed"
    set -a; . "$RUN/resources.env"; set +a

    say "building the functions"
    (cd "$ROOT" && cargo build --workspace --quiet "${build_flags[@]}") || die "cargo build failed"
    # --concurrency: several instances per function, so long polls never block other requests.
    start watch cargo lambda watch --manifest-path "$ROOT/Cargo.toml" -A 127.0.0.1 -P "$API_PORT" \
        --concurrency 16 "${watch_flags[@]}"
    # The worker is a Lambda of its own: its own `cargo lambda watch`, which $RUN/start-worker
    # (re)starts, so tests can kill it mid-batch and bring it back like Lambda would.
    export WORKER_URL="http://127.0.0.1:$WORKER_PORT/2015-03-31/functions/worker/invocations"
    cat >"$RUN/start-worker" <<SH
#!/bin/bash
# A killed predecessor may hold the port for a moment.
for _ in \$(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$WORKER_PORT) 2>/dev/null || break; sleep 0.1; done
setsid "$VENV/bin/cargo-lambda" lambda watch --manifest-path "$ROOT/Cargo.toml" -A 127.0.0.1 \\
    -P "$WORKER_PORT" --concurrency 16 ${watch_flags[*]} >>"$RUN/worker.log" 2>&1 &
echo "\$! worker" >>"$RUN/pids"
SH
    chmod +x "$RUN/start-worker"
    "$RUN/start-worker"
    if [ -n "${FAULT_API_PORT:-}" ]; then
        # For fault tests: the API functions again, but reaching DynamoDB and SQS through ports
        # that the tests open, blackhole or leave closed.
        AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$FAULT_DYNAMODB_PORT" AWS_ENDPOINT_URL_SQS="http://127.0.0.1:$FAULT_SQS_PORT" \
            start faults cargo lambda watch --manifest-path "$ROOT/Cargo.toml" -A 127.0.0.1 -P "$FAULT_API_PORT" \
            --concurrency 4 "${watch_flags[@]}"
        export FAULT_API_URL="http://127.0.0.1:$FAULT_API_PORT"
    fi
    wait_until 120 "the API" curl -fsS "$API_URL/users/"
    wait_until 60 "the worker" curl -fsS -d '{"Records": []}' "$WORKER_URL"
    # The SQS event source mapping: batches from SQS to the worker through its Invoke API.
    start poller "$ROOT/target/$profile/poller"
    # Start one instance of each function now rather than on its first request.
    local warm=()
    for path in /chat/chatroom/ /chat/messages/unseen/?user_id=1 /chat/task_state/warm-up; do
        curl -sS -o /dev/null "$API_URL$path" & warm+=($!)
    done
    wait "${warm[@]}"
}

# 15 users, ids 1-15, through the API itself (so they are hashed and cached like any other).
seed_users() {
    local i
    for i in $(seq 1 15); do
        curl -fsS -o /dev/null -X POST "$API_URL/users/" -H 'content-type: application/json' \
            -d "{\"username\": \"user_$i\", \"password\": \"Passw0rd!\", \"profile\": {}}" \
            || die "seeding user_$i failed"
    done
}
