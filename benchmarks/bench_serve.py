"""Start-up, memory and /sparql speed of ``evidencemap serve`` against ``oxigraph serve`` on the same data (issue 14).

For each size, on a synthetic map (benchmarks/synthetic.py) and an empty store cache:

- **first load**: ``evidencemap serve --data MAP`` started; seconds to the first 2xx of ``GET /api/studies?limit=20``
  (the map parsed, validated, written to the on-disk store, indexed) and of ``GET /sparql?query=ASK{}``; stopped.
- **second start**: the same command again (the cache now holds the map); seconds to the same two answers.
- **memory**: RSS and PSS (``/proc/PID/smaps_rollup``) of the whole process tree (server, zygote, workers) after the
  burnout query has run ``--repeat`` times; against ``oxigraph serve`` in memory holding the same quads (loaded over
  its Graph Store endpoint) and ``oxigraph serve --location`` (on disk, loaded by ``oxigraph load``).
- **/sparql**: the "online studies that reported burnout" query (the bundled map's
  ``maps/dufour-2025/queries/online-studies-burnout.rq`` with its default parameters as a VALUES block), sent in
  turns to evidencemap and to each oxigraph server (paired requests over HTTP, JSON results, the union default graph
  on both); medians and the median of the paired ratios.

The oxigraph CLI comes from PyPI (``pip install oxigraph``, any environment; never a dependency of the product):
``--oxigraph PATH`` or ``oxigraph`` on the PATH. Figures go to standard output, and with ``--out`` between this
script's markers in a Markdown file.

    python benchmarks/bench_serve.py --sizes 1000,10000 [--repeat 21] [--oxigraph PATH] [--out docs/benchmarks.md]
    python benchmarks/bench_serve.py --sizes 100000 --cache DIR --starts 5    # start-up only, N starts
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).parent))
from evidencemap.graph.loading import expand_paths
from evidencemap.graph.persistence import StoreCache
from evidencemap.graph.store import EvidenceMap
from evidencemap.graph.values import Values, with_values
from evidencemap.model.queries import get_named_query
from evidencemap.model.vocabulary import vocabulary_of
from evidencemap.resources import vocabulary_files
from evidencemap.settings import Settings
from synthetic import write_map

BEGIN, END = "<!-- bench_serve.py: begin -->", "<!-- bench_serve.py: end -->"
JSON_RESULTS = "application/sparql-results+json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def burnout_query() -> str:
    """The named query with its default parameters bound as the product binds them (a VALUES block)."""
    bundled = EvidenceMap.load(Settings())
    named = get_named_query("online-studies-burnout")
    text = with_values(named.text, Values.row(named.bindings(vocabulary_of(bundled), {})))
    assert text is not None
    return text


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def tree_memory(pid: int) -> tuple[float, float, int]:
    """(RSS MiB, PSS MiB, processes) of ``pid``'s process tree."""
    rss = pss = 0
    pids = tree(pid)
    for each in pids:
        try:
            with open(f"/proc/{each}/smaps_rollup") as rollup:
                for line in rollup:
                    name, _, rest = line.partition(":")
                    if name == "Rss":
                        rss += int(rest.split()[0])
                    elif name == "Pss":
                        pss += int(rest.split()[0])
        except OSError:
            continue
    return rss / 1024, pss / 1024, len(pids)


def wait_2xx(client: httpx.Client, url: str, started: float, limit: float, params: dict[str, str] | None = None,
             headers: dict[str, str] | None = None, process: subprocess.Popen[bytes] | None = None) -> float | None:
    """Seconds from ``started`` to the first 2xx of ``url`` (polled every 20 ms); None past ``limit``.

    :raises RuntimeError: when ``process`` (the server) ends first.
    """
    while time.monotonic() - started < limit:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            if client.get(url, params=params, headers=headers, timeout=30).is_success:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    return None


SERVER_LOG: Path | None = None  # --server-log: where the servers' standard error goes (else nowhere)


@contextmanager
def running(command: list[str], env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    with contextlib.ExitStack() as files:
        log = files.enter_context(SERVER_LOG.open("ab")) if SERVER_LOG else subprocess.DEVNULL
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# The server without `serve`'s validation step: the same app on the same cached store (for sizes where pySHACL's
# validation does not finish in the time given; the text says so where it was used).
UNVALIDATED = """
import logging, sys, uvicorn
from pathlib import Path
from evidencemap.graph.store import EvidenceMap
from evidencemap.settings import Settings
from evidencemap.web.app import create_app
logging.basicConfig(level=logging.WARNING)
logging.getLogger("evidencemap.store").setLevel(logging.INFO)  # the store cache's build phases
settings = Settings.from_env(data=[Path(sys.argv[1])])
uvicorn.run(create_app(settings, EvidenceMap.load(settings, persistent=True)), host="127.0.0.1", port=int(sys.argv[2]),
            log_level="warning")
"""
VALIDATE = True


def serve_command(data: Path, port: int) -> list[str]:
    if not VALIDATE:
        return [sys.executable, "-c", UNVALIDATED, str(data), str(port)]
    # --allow-invalid: the map is validated all the same (and the result cached); a synthetic map written before a
    # change to the shapes is still served.
    return [sys.executable, "-m", "evidencemap.cli", "serve", "--data", str(data), "--port", str(port),
            "--allow-invalid"]


def start_times(client: httpx.Client, data: Path, env: dict[str, str], limit: float
                ) -> tuple[float | None, float | None]:
    """Seconds to the first 2xx of /api/studies and of /sparql, for one start of the server (then stopped)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    with running(serve_command(data, port), env) as server:
        rest = wait_2xx(client, f"{base}/api/studies", started, limit, params={"limit": "20"}, process=server)
        sparql = wait_2xx(client, f"{base}/sparql", started, limit, params={"query": "ASK {}"},
                          headers={"Accept": JSON_RESULTS}, process=server)
    return rest, sparql


def paired(client: httpx.Client, targets: dict[str, tuple[str, dict[str, str]]], query: str, repeat: int
           ) -> tuple[dict[str, list[float]], list[str]]:
    """Seconds per request to each target, taken in turns, and what went wrong: an answer that is not a 2xx, that
    the server cut (``Evidencemap-Truncated``) or whose rows differ from the other servers' (reported, and the run
    goes on: at 100,000 studies this is how the default limits are checked)."""
    times: dict[str, list[float]] = {name: [] for name in targets}
    rows: dict[str, set[int]] = {name: set() for name in targets}
    problems: list[str] = []
    for _ in range(repeat):
        for name, (url, extra) in targets.items():
            started = time.perf_counter()
            # POST: a GET answer may come from the server's response cache (an ETag per map version)
            response = client.post(url, params=extra, content=query.encode(), timeout=600,
                                   headers={"Accept": JSON_RESULTS, "Content-Type": "application/sparql-query"})
            body = response.content
            times[name].append(time.perf_counter() - started)
            if not response.is_success:
                problems.append(f"{NAMES[name]}: HTTP {response.status_code}")
            elif response.headers.get("Evidencemap-Truncated") == "true":
                problems.append(f"{NAMES[name]}: cut at the row cap")
            rows[name].add(body.count(b'"study":'))
    if len({frozenset(found) for found in rows.values()}) != 1:
        problems.append(f"the servers returned different rows: {rows}")
    return times, sorted(set(problems))


def ratio(mine: list[float], theirs: list[float]) -> float:
    return statistics.median(a / b for a, b in zip(mine, theirs, strict=True))


def entry_of(cache: Path, data: Path) -> Path:
    """The folder of the store cache ``cache`` (an XDG_CACHE_HOME) that holds the map ``data``."""
    store_cache = StoreCache(cache / "evidencemap")
    return store_cache.root / store_cache.key(expand_paths([data]), vocabulary_files(), Settings().base_iri)


def dump_store(entry: Path, out: Path) -> int:
    """The quads of the store of the cache entry ``entry`` as N-Quads: the data the product serves, vocabulary and
    materialised findings included."""
    store = ox.Store.read_only(str(entry / "store"))
    store.dump(out, format=ox.RdfFormat.N_QUADS)
    return len(store)


def cached(cache: Path, data: Path) -> bool:
    """Whether the store cache ``cache`` (an XDG_CACHE_HOME) holds the entry of the map ``data``."""
    return (entry_of(cache, data) / "store").is_dir()


NAMES = {"disk": "evidencemap (workers on the on-disk store)", "in-memory": "evidencemap, sparql_in_memory",
         "oxigraph": "oxigraph serve (in memory)", "oxigraph-disk": "oxigraph serve --location"}


def measure(size: int, repeat: int, oxigraph: str | None, limit: float, work: Path, given: Path | None,
            in_memory: bool = True) -> list[str]:
    synthetic = write_map(size)
    query = burnout_query()
    cache = given / str(size) if given else work / f"cache-{size}"
    if not given:
        shutil.rmtree(cache, ignore_errors=True)
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    in_memory_env = {**env, "EVIDENCEMAP_SPARQL_IN_MEMORY": "true"}
    lines = [f"### {size:,} studies", "", f"Synthetic file: {synthetic.triples:,} triples."]
    ready: dict[str, str] = {}
    with httpx.Client() as client:
        if not cached(cache, synthetic.path):
            first = start_times(client, synthetic.path, env, limit)
            ready["first"] = f"{fmt(first[0])}; {fmt(first[1])}"
            print(f"first start: {ready['first']}", file=sys.stderr, flush=True)
        second = start_times(client, synthetic.path, env, limit)
        ready["disk"] = f"{fmt(second[0])}; {fmt(second[1])}"
        print(f"second start: {ready['disk']}", file=sys.stderr, flush=True)
        if in_memory:
            with_copy = start_times(client, synthetic.path, in_memory_env, limit)
            ready["in-memory"] = f"{fmt(with_copy[0])}; {fmt(with_copy[1])}"
        dump = work / f"store-{size}.nq"
        entry = entry_of(cache, synthetic.path)
        quads = dump_store(entry, dump)
        store_mib = sum(f.stat().st_size for f in entry.rglob("*") if f.is_file()) / 2**20
        lines[-1] += f" {quads:,} quads once loaded (vocabulary and materialised findings included); on-disk store " \
                     f"and derived files {store_mib:,.0f} MiB."
        targets: dict[str, str] = {}
        processes: dict[str, subprocess.Popen[bytes]] = {}
        with contextlib.ExitStack() as stack:
            for name, environment in (("disk", env), ("in-memory", in_memory_env))[:2 if in_memory else 1]:
                port = free_port()
                processes[name] = stack.enter_context(running(serve_command(synthetic.path, port), environment))
                targets[name] = f"http://127.0.0.1:{port}/sparql"
                wait_2xx(client, targets[name], time.monotonic(), limit, params={"query": "ASK {}"},
                         headers={"Accept": JSON_RESULTS}, process=processes[name])
            if oxigraph:
                port = free_port()
                processes["oxigraph"] = stack.enter_context(running([oxigraph, "serve", "--bind", f"127.0.0.1:{port}",
                                                       "--union-default-graph"]))
                targets["oxigraph"] = f"http://127.0.0.1:{port}/query"
                wait_2xx(client, targets["oxigraph"], time.monotonic(), 60, params={"query": "ASK {}"},
                         headers={"Accept": JSON_RESULTS}, process=processes["oxigraph"])
                started = time.monotonic()
                with dump.open("rb") as body:
                    client.post(f"http://127.0.0.1:{port}/store", content=body, timeout=None,
                                headers={"Content-Type": "application/n-quads"}).raise_for_status()
                ready["oxigraph"] = f"loaded over HTTP in {time.monotonic() - started:.1f} s"
                location = work / f"oxigraph-{size}"
                shutil.rmtree(location, ignore_errors=True)
                started = time.monotonic()
                subprocess.run([oxigraph, "load", "--location", str(location), "--file", str(dump)], check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                loaded = time.monotonic() - started
                port = free_port()
                started = time.monotonic()
                command = [oxigraph, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}",
                           "--union-default-graph"]
                processes["oxigraph-disk"] = stack.enter_context(running(command))
                targets["oxigraph-disk"] = f"http://127.0.0.1:{port}/query"
                opened = wait_2xx(client, targets["oxigraph-disk"], started, 60, params={"query": "ASK {}"},
                                  headers={"Accept": JSON_RESULTS}, process=processes["oxigraph-disk"])
                ready["oxigraph-disk"] = f"oxigraph load {loaded:.1f} s once; then first 2xx after {fmt(opened)}"
            times, problems = paired(client, {name: (url, {}) for name, url in targets.items()}, query, repeat)
            memories = {name: tree_memory(process.pid) for name, process in processes.items()}
    names = list(targets)
    lines += ["", "| measure | " + " | ".join(NAMES[n] for n in names) + " |", "|---|" + "---:|" * len(names)]
    if "first" in ready:
        lines.append(f"| first start (empty cache): first 2xx /api/studies; /sparql | {ready['first']} |"
                     + " |" * (len(names) - 1))
    lines.append("| start with the cache filled: first 2xx /api/studies; /sparql | "
                 + " | ".join(ready.get(n, "") for n in names) + " |")
    lines.append("| process-tree memory: RSS / PSS MiB (processes) | "
                 + " | ".join(f"{mib(memories[n])} ({memories[n][2]})" for n in names) + " |")
    lines.append(f"| /sparql burnout query, median of {repeat} requests taken in turns | "
                 + " | ".join(ms(times[n]) for n in names) + " |")
    for reference in ("oxigraph", "oxigraph-disk"):
        if reference in times:
            lines.append(f"| ÷ {NAMES[reference]}: query (median of paired ratios); RSS; PSS | "
                         + " | ".join(f"{ratio(times[n], times[reference]):.2f}x; "
                                      f"{memories[n][0] / memories[reference][0]:.2f}x; "
                                      f"{memories[n][1] / memories[reference][1]:.2f}x" for n in names) + " |")
    lines += ["", f"Problems in the paired requests: {'; '.join(problems)}." if problems else
              "Every paired request answered 2xx, uncut, with the same rows on every server."]
    dump.unlink(missing_ok=True)
    shutil.rmtree(work / f"oxigraph-{size}", ignore_errors=True)
    if not given:
        shutil.rmtree(cache, ignore_errors=True)
    return [*lines, ""]


def fmt(seconds: float | None) -> str:
    return "timeout" if seconds is None else f"{seconds:.2f} s"


def ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:,.1f} ms"


def mib(memory: tuple[float, float, int]) -> str:
    return f"{memory[0]:,.0f} / {memory[1]:,.0f}"


def machine() -> str:
    with open("/proc/meminfo") as meminfo:
        total = int(meminfo.readline().split()[1]) / 2**20
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, {total:.1f} GiB RAM, load average "
            f"{os.getloadavg()[0]:.2f} at start; Python {platform.python_version()}, pyoxigraph {ox.__version__}")


def write_out(path: Path, block: list[str]) -> None:
    text = path.read_text()
    new = "\n".join([BEGIN, *block, END])
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + new + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + new + "\n"
    path.write_text(text)


def starts_only(size: int, count: int, limit: float, cache: Path) -> list[str]:
    """``--starts N``: N starts of ``evidencemap serve`` on the store cache in ``cache/<size>`` (filled by a first
    start there when empty, reported apart), in turns; each start's seconds to the first 2xx, and the medians."""
    synthetic = write_map(size)
    env = {**os.environ, "XDG_CACHE_HOME": str(cache / str(size))}
    lines = [f"### {size:,} studies: starts with the cache filled", ""]
    with httpx.Client() as client:
        if not cached(cache / str(size), synthetic.path):
            first = start_times(client, synthetic.path, env, limit)
            lines += [f"First start (the cache was empty): /api/studies {fmt(first[0])}; /sparql {fmt(first[1])}.", ""]
        rest: list[float] = []
        sparql: list[float] = []
        lines += ["| start | load average | first 2xx /api/studies | first 2xx /sparql |", "|---:|---:|---:|---:|"]
        for number in range(1, count + 1):
            load = os.getloadavg()[0]
            times = start_times(client, synthetic.path, env, limit)
            if times[0] is None or times[1] is None:
                lines.append(f"| {number} | {load:.1f} | {fmt(times[0])} | {fmt(times[1])} |")
                continue
            rest.append(times[0])
            sparql.append(times[1])
            lines.append(f"| {number} | {load:.1f} | {times[0]:.2f} s | {times[1]:.2f} s |")
            print(lines[-1], file=sys.stderr, flush=True)
    if rest:
        lines.append(f"| median | | {statistics.median(rest):.2f} s | {statistics.median(sparql):.2f} s |")
    return [*lines, ""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="numbers of studies, comma-separated")
    parser.add_argument("--repeat", type=int, default=21, help="paired requests per server")
    parser.add_argument("--oxigraph", default=shutil.which("oxigraph"), help="the oxigraph CLI (pip install oxigraph)")
    parser.add_argument("--limit", type=float, default=900.0, help="seconds a start may take")
    parser.add_argument("--cache", type=Path, help="keep the store caches in DIR/<size> (an entry already there is "
                        "used: the first start is then not measured)")
    parser.add_argument("--no-validation", action="store_true", help="start the app on the cached store without "
                        "serve's SHACL validation (for sizes where pySHACL does not finish)")
    parser.add_argument("--no-in-memory", action="store_true", help="leave out evidencemap with sparql_in_memory "
                        "(at 100,000 studies its zygote and workers would hold several copies of the store)")
    parser.add_argument("--server-log", type=Path, help="append the servers' standard error to this file")
    parser.add_argument("--out", type=Path, help="Markdown file to write the figures into, between the markers")
    parser.add_argument("--starts", type=int, default=0, help="only the start-up: this many starts with the cache "
                        "filled (needs --cache; no oxigraph, no queries), printed, not written to --out")
    args = parser.parse_args(argv)
    global VALIDATE, SERVER_LOG
    VALIDATE = not args.no_validation
    SERVER_LOG = args.server_log
    if args.starts:
        if args.cache is None:
            parser.error("--starts needs --cache DIR (the store caches to start from)")
        for size in (int(s) for s in args.sizes.split(",")):
            print("\n".join(starts_only(size, args.starts, args.limit, args.cache)), flush=True)
        return 0
    block = ["## Figures: start-up, memory and /sparql against oxigraph serve", "",
             f"- machine: {machine()}", f"- oxigraph CLI: {args.oxigraph or 'not found (oxigraph columns empty)'}",
             f"- command: `python benchmarks/bench_serve.py {' '.join(argv or sys.argv[1:])}`", ""]
    print("\n".join(block), flush=True)
    with tempfile.TemporaryDirectory(prefix="evidencemap-bench-serve-") as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            lines = measure(size, args.repeat, args.oxigraph, args.limit, Path(folder), args.cache,
                            in_memory=not args.no_in_memory)
            print("\n".join(lines), flush=True)
            block += lines
    if args.out:
        write_out(args.out, block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
