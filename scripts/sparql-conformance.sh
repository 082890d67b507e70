#!/usr/bin/env bash
# Runs the W3C SPARQL 1.1 Protocol tests (../shared/conformance/sparql-protocol/, beside the checkout) against
# /sparql: starts `evidencemap serve` on that suite's dataset and a free port, runs the suite's runner, stops the
# server, and exits with the runner's code (0 only when every test passed). Skips, exiting 0, when the suite is
# not there. PYTHON selects the interpreter (default: .venv/bin/python, else python3).
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
suite="$repo/../shared/conformance/sparql-protocol"
if [ ! -f "$suite/run.py" ] || [ ! -f "$suite/dataset.trig" ]; then
    echo "sparql-conformance: skipped: no W3C protocol suite at $suite (it lives in ../shared beside the checkout)."
    exit 0
fi

python="${PYTHON:-}"
if [ -z "$python" ]; then
    if [ -x "$repo/.venv/bin/python" ]; then python="$repo/.venv/bin/python"; else python="python3"; fi
fi

port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
url="http://127.0.0.1:$port/sparql"
log="$(mktemp "${TMPDIR:-/tmp}/sparql-conformance.XXXXXX")"

"$python" -m evidencemap.cli serve --data "$suite/dataset.trig" --no-union-default-graph --port "$port" >"$log" 2>&1 &
server=$!
stop_server() {
    kill "$server" 2>/dev/null
    wait "$server" 2>/dev/null
    rm -f "$log"
}
trap stop_server EXIT

# Ready when a query is answered (the server is up and its SPARQL workers have loaded the dataset).
ready=0
for _ in $(seq 1 300); do
    if ! kill -0 "$server" 2>/dev/null; then break; fi
    if "$python" -c 'import sys, httpx; sys.exit(httpx.get(sys.argv[1], params={"query": "ASK {}"}, timeout=2).status_code != 200)' "$url" 2>/dev/null; then
        ready=1
        break
    fi
    sleep 0.1
done
if [ "$ready" != 1 ]; then
    echo "sparql-conformance: the server did not start; its log:" >&2
    cat "$log" >&2
    exit 2
fi

"$python" "$suite/run.py" "$url"
exit $?
