#!/bin/bash
# LocalStack ready hook: creates the chat table, queues and files bucket from template.yaml with
# the same localstack/bootstrap.py as the Docker-free stack, and writes the functions' environment
# (TABLE_NAME, QUEUE_URL, SIGNING_SECRET_ARN, FILES_BUCKET, DLQ_URL, DLQ_ARN, STREAM_ARN, PUSH_FILTERS) to
# /opt/chat/run/resources.env, which docker-compose.yml mounts from .run/localstack/ of the
# repository.
set -euo pipefail

export AWS_ENDPOINT_URL=http://localhost:4566
export AWS_REGION=${AWS_REGION:-us-east-1}
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}

say() { echo "chat resources: $*" >&2; }

# LocalStack's own Python has boto3 and, as a dependency of LocalStack, PyYAML.
python=
for candidate in /opt/code/localstack/.venv/bin/python python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import boto3' 2>/dev/null; then
        python=$candidate
        break
    fi
done
[ -n "$python" ] || { say "no python3 with boto3 in this container"; exit 1; }

if ! "$python" -c 'import yaml' 2>/dev/null; then
    # Beside LocalStack's environment, not into it.
    say "PyYAML is missing; installing it into /tmp/chat-pylib"
    "$python" -m pip install --quiet --disable-pip-version-check --target /tmp/chat-pylib PyYAML==6.0.4 \
        || python3 -m pip install --quiet --disable-pip-version-check --target /tmp/chat-pylib PyYAML==6.0.4
    export PYTHONPATH=/tmp/chat-pylib${PYTHONPATH:+:$PYTHONPATH}
fi

mkdir -p /opt/chat/run
"$python" /opt/chat/localstack/bootstrap.py /opt/chat/template.yaml >/opt/chat/run/resources.env.new
mv /opt/chat/run/resources.env.new /opt/chat/run/resources.env
say "created; environment in .run/localstack/resources.env:"
sed 's/^/  /' /opt/chat/run/resources.env >&2
