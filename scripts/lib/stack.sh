# The local stack: start, stop, seed. Every process started here is recorded in $RUN/pids (one
# process group each) and stopped by stop_stack, so nothing else on the machine is touched.

stack_alive() {
    [ -f "$RUN/pids" ] || return 1
    local pid name
    while read -r pid name; do kill -0 -- "-$pid" 2>/dev/null && return 0; done <"$RUN/pids"
    return 1
}

stop_stack() {
    # The dev terminal's log stream first: what the functions say while they are stopped (their
    # watchers report the killed instances) is no news, and stays in the logs.
    if [ -f "$RUN/streamer.pid" ]; then
        kill "$(cat "$RUN/streamer.pid")" 2>/dev/null || true
        rm -f "$RUN/streamer.pid"
    fi
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
    API_PORT=$(free_port) DYNAMODB_PORT=$(free_port) SQS_PORT=$(free_port) REDIS_PORT=$(free_port) WORKER_PORT=$(free_port)
    WS_PORT=$(free_port) INVOKE_PORT=$(free_port)
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
    wait_until 10 "redis" port_open "$REDIS_PORT" || exit 1
}

finish_private() {
    local rc=$?
    stop_stack
    if [ -f "$RUN/redis.pid" ]; then
        local pid
        pid=$(cat "$RUN/redis.pid")
        kill "$pid" 2>/dev/null
        # Redis writes its log as it stops: let it finish before its folder goes.
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    if [ $rc = 0 ]; then rm -rf "$RUN" || true; else say "failed; the stack's logs are in $RUN"; fi
}

# Environment every process of the stack shares: the SDK's standard endpoint settings (DynamoDB
# Local for DynamoDB, moto for SQS, S3 and the ElastiCache API) and dummy credentials both accept.
# CACHE_PREFIX is new on every start, so a Redis that outlives a stack never serves its data to
# the next one.
stack_env() {
    export AWS_ENDPOINT_URL="http://127.0.0.1:$SQS_PORT" AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DYNAMODB_PORT"
    export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
    export CACHE_URL="redis://127.0.0.1:$REDIS_PORT" CACHE_PREFIX="chat-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    export API_URL="http://127.0.0.1:$API_PORT"
    # The files bucket is moto's S3: the web client uploads there and shows images from there.
    export FILES_ORIGIN="$AWS_ENDPOINT_URL"
    # The poller follows the table's stream on DynamoDB Local.
    export AWS_ENDPOINT_URL_DYNAMODB_STREAMS="http://127.0.0.1:$DYNAMODB_PORT"
    # Live push: the local WebSocket API (localstack/gateway), its Management API for the push
    # function, its URL for the web client and the tests.
    export WEBSOCKET_ENDPOINT="http://127.0.0.1:$WS_PORT" WEBSOCKET_URL="ws://localhost:$WS_PORT/"
    # Typing frames: the sockets function hands them to the push function by an asynchronous
    # Lambda invoke, which the poller answers at once as Lambda does (`cargo lambda watch` would
    # hold the caller until push is done; see localstack/poller/src/invoke.rs). The worker's
    # watch runs push for them, beside the API's bounded number of invocations at once.
    export PUSH_FUNCTION=push AWS_ENDPOINT_URL_LAMBDA="http://127.0.0.1:$INVOKE_PORT"
    # The functions' own logs; cargo-lambda's bookkeeping only from warnings up. cargo lambda
    # watch sets AWS_LAMBDA_MAX_CONCURRENCY=1 for each instance, which the runtime (built
    # without managed concurrency) answers with a warning per instance: not a problem here.
    export RUST_LOG=${RUST_LOG:-warn,users=info,chatrooms=info,messages=info,tasks=info,worker=info,store=info,services=info,edge=info,poller=info,lambda_runtime::runtime=error}
}

start_emulators() {
    local jars
    jars=$(dynamodb_local_jar_dir) || return 1
    # In memory, one database for every credential and region, no telemetry (no network here).
    # The parallel collector took the least CPU per call in a comparison of collectors.
    start dynamodb java -Xmx1g -XX:+UseParallelGC -XX:-UsePerfData -Djava.library.path="$jars/DynamoDBLocal_lib" -jar "$jars/DynamoDBLocal.jar" \
        -inMemory -sharedDb -disableTelemetry -port "$DYNAMODB_PORT"
    start moto "$VENV/bin/python" "$ROOT/localstack/emulator.py" "$SQS_PORT"
    wait_until 60 "DynamoDB Local" port_open "$DYNAMODB_PORT" && wait_until 30 "moto" port_open "$SQS_PORT"
}

create_resources() {
    "$VENV/bin/python" "$ROOT/localstack/bootstrap.py" >"$RUN/resources.env"
}

build_functions() {
    (cd "$ROOT" && cargo build --workspace "$@")
}

# start_stack [WATCH FLAGS]: DynamoDB Local and moto, tables and queues, the functions behind
# `cargo lambda watch`, the poller. CARGO_PROFILE=release builds and runs release binaries.
# DYNAMODB_PROXY, when set, is a command that takes LISTEN and TARGET addresses and forwards
# DynamoDB calls (the bench counts calls that way); the functions then reach DynamoDB through it.
# Needs RUN, DYNAMODB_PORT, SQS_PORT, REDIS_PORT, API_PORT, WORKER_PORT, WS_PORT, INVOKE_PORT;
# Redis must already listen.
# Every instance `cargo lambda watch` starts takes an inotify instance (--ignore-changes does not
# spare it), and the stack's watches may run over a hundred at once: the usual limit of 128 per
# user left instances unstarted ("Native fs watcher error"), their invocations waiting until they
# timed out. Raised where the machine lets us (root; containers may not).
more_inotify_instances() {
    local limit=/proc/sys/fs/inotify/max_user_instances
    if [ -w "$limit" ] && [ "$(cat "$limit")" -lt 1024 ]; then
        echo 1024 >"$limit" 2>/dev/null || say "could not raise $limit; a storm of invocations may stall"
    fi
}

start_stack() {
    local watch_flags=(--ignore-changes --quiet "$@") profile=debug build_flags=()
    if [ "${CARGO_PROFILE:-debug}" = release ]; then
        profile=release build_flags=(--release) watch_flags+=(--release)
    fi
    stack_env
    more_inotify_instances
    step "building the functions ($profile)" build_functions "${build_flags[@]}"
    step "DynamoDB Local on :$DYNAMODB_PORT, moto (SQS, S3) on :$SQS_PORT" start_emulators
    step "table, queues and bucket from template.yaml" create_resources
    set -a; . "$RUN/resources.env"; set +a
    if [ -n "${DYNAMODB_PROXY:-}" ]; then
        local proxy_port
        proxy_port=$(free_port)
        # shellcheck disable=SC2086 # the command and its arguments
        start dynamodb-proxy $DYNAMODB_PROXY "127.0.0.1:$proxy_port" "127.0.0.1:$DYNAMODB_PORT"
        wait_until 10 "the DynamoDB proxy" port_open "$proxy_port" || exit 1
        export DYNAMODB_PROXY_URL="http://127.0.0.1:$proxy_port"
    fi
    step "API on :$API_PORT and worker on :$WORKER_PORT" start_functions "$profile" "${watch_flags[@]}"
}

# watch_api NAME PORT CONCURRENCY: the API functions behind a `cargo lambda watch` of their own,
# with start_functions' watch flags; settings given before the call are that copy's alone.
watch_api() {
    start "$1" cargo lambda watch --manifest-path "$ROOT/Cargo.toml" -A 127.0.0.1 -P "$2" \
        --concurrency "$3" "${watch_flags[@]}"
}

# The functions behind `cargo lambda watch`, the worker, and the SQS poller. Code changes need
# a restart (--ignore-changes). cargo lambda watch still watches its working directory, with an
# inotify watcher per function instance: it runs from an empty one, or the instances would
# exhaust the machine's inotify watches on .venv and target/ (MaxFilesWatch errors).
start_functions() {
    local profile=$1; shift
    local watch_flags=("$@")
    mkdir -p "$RUN/watch-root"
    cd "$RUN/watch-root"
    # --concurrency: several instances per function, so long polls never block other requests.
    AWS_ENDPOINT_URL_DYNAMODB=${DYNAMODB_PROXY_URL:-$AWS_ENDPOINT_URL_DYNAMODB} watch_api watch "$API_PORT" 16
    # The worker is a Lambda of its own: its own `cargo lambda watch`, which $RUN/start-worker
    # (re)starts, so tests can kill it mid-batch and bring it back like Lambda would.
    export WORKER_URL
    WORKER_URL=$(invoke_url "http://127.0.0.1:$WORKER_PORT" worker)
    cat >"$RUN/start-worker" <<SH
#!/bin/bash
# A killed predecessor may hold the port for a moment.
for _ in \$(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$WORKER_PORT) 2>/dev/null || break; sleep 0.1; done
cd "$RUN/watch-root"
AWS_ENDPOINT_URL_DYNAMODB=${DYNAMODB_PROXY_URL:-$AWS_ENDPOINT_URL_DYNAMODB} \\
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
            watch_api faults "$FAULT_API_PORT" 4
        export FAULT_API_URL="http://127.0.0.1:$FAULT_API_PORT"
    fi
    if [ -n "${TOKEN_API_PORT:-}" ]; then
        # For the token-mode tests: the API functions again with AUTH_MODE=token, on the same
        # DynamoDB, queue and worker, with tokens and lockouts that end in seconds.
        AUTH_MODE=token ACCESS_TOKEN_SECONDS=$TOKEN_ACCESS_SECONDS LOGIN_WINDOW_SECONDS=$TOKEN_LOGIN_WINDOW_SECONDS \
            SEND_LIMIT_ROOM=10 SEND_LIMIT_USER=30 \
            WEBSOCKET_URL="ws://localhost:$TOKEN_WS_PORT/" WEBSOCKET_ENDPOINT="http://127.0.0.1:$TOKEN_WS_PORT" \
            AWS_ENDPOINT_URL_LAMBDA="http://127.0.0.1:$TOKEN_API_PORT" watch_api tokens "$TOKEN_API_PORT" 4
        export TOKEN_API_URL="http://127.0.0.1:$TOKEN_API_PORT"
    fi
    cd "$ROOT"
    # One request each once the ports listen: every request queued meanwhile would start one
    # more instance, and their `cargo run`s would queue on cargo's lock.
    wait_until 60 "the API" port_open "$API_PORT" && wait_until 60 "the worker" port_open "$WORKER_PORT" || return 1
    # Any answer will do (token mode answers 401): the function started.
    curl -sS -o /dev/null --max-time 120 "$API_URL/users/" || { echo "the API does not answer"; return 1; }
    curl -fsS -o /dev/null --max-time 60 -d '{"Records": []}' "$WORKER_URL" || { echo "the worker does not answer"; return 1; }
    # The event source mappings: batches from SQS to the worker, the table's stream to the push
    # function, each through its Invoke API.
    PUSH_URL="$(invoke_url "$API_URL" push)" ASYNC_INVOKE_PORT=$INVOKE_PORT \
        ASYNC_INVOKE_TARGET="http://127.0.0.1:$WORKER_PORT" start poller "$ROOT/target/$profile/poller"
    # The WebSocket API (and in the tests a second one, on the token-mode copy).
    local apis=("$WS_PORT=$(invoke_url "$API_URL" sockets)")
    if [ -n "${TOKEN_WS_PORT:-}" ]; then
        apis+=("$TOKEN_WS_PORT=$(invoke_url "$TOKEN_API_URL" sockets)")
        export TOKEN_WEBSOCKET_URL="ws://localhost:$TOKEN_WS_PORT/"
    fi
    # $RUN/start-gateway (re)starts it: the browser test stops it to see the client fall back.
    cat >"$RUN/start-gateway" <<SH
#!/bin/bash
for _ in \$(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$WS_PORT) 2>/dev/null || break; sleep 0.1; done
setsid "$ROOT/target/$profile/gateway" ${apis[*]} >>"$RUN/gateway.log" 2>&1 &
echo "\$! gateway" >>"$RUN/pids"
echo "\$!" >"$RUN/gateway.pid"
SH
    chmod +x "$RUN/start-gateway"
    "$RUN/start-gateway"
    wait_until 10 "the WebSocket gateway" port_open "$WS_PORT" || return 1
    # Start one instance of each function now rather than on its first request.
    local warm=() path
    for path in /chat/chatroom/ /chat/messages/unseen/?user_id=1 /chat/task_state/warm-up; do
        curl -sS -o /dev/null "$API_URL$path" & warm+=($!)
    done
    curl -sS -o /dev/null -d '{"Records": []}' "$(invoke_url "$API_URL" push)" & warm+=($!)
    curl -sS -o /dev/null -d '{"requestContext": {"routeKey": "$default"}}' "$(invoke_url "$API_URL" sockets)" & warm+=($!)
    wait "${warm[@]}"
}

# The Lambda Invoke API URL of a function behind a `cargo lambda watch` at BASE.
invoke_url() {
    echo "$1/2015-03-31/functions/$2/invocations"
}

# 15 users, ids 1-15, through the API itself (so they are hashed and cached like any other).
seed_users() {
    local i
    for i in $(seq 1 15); do
        curl -fsS -o /dev/null -X POST "$API_URL/users/" -H 'content-type: application/json' \
            -d "{\"username\": \"user_$i\", \"password\": \"Passw0rd!\", \"profile\": {}}" \
            || { echo "seeding user_$i failed"; return 1; }
    done
}
