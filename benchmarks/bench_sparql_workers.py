"""What the /sparql worker design costs on big maps: start-up, memory, restart after a runaway query, overhead.

For each size it loads a synthetic map (``synthetic.py``) as the server does, starts the worker pool (dump of the
store, zygote loading the dump, two forked workers) and prints:

- the server's own load time and memory, i.e. what a worker that rebuilt the store from the files would cost
  per start and per worker (the alternative design);
- the dump time, the zygote's load time and memory, and each worker's private memory (USS) after queries:
  what copy-on-write sharing leaves per worker;
- the time to fork a fresh worker (the restart after a query was killed at the time limit, done in the background)
  and the time a runaway query took to be answered 503 with a 1 s limit;
- the latency of "online studies that reported burnout" (defaults bound), written as SPARQL JSON by pyoxigraph
  directly on the store, and through a worker (guard, execution, capped serialisation, transfer).

    python benchmarks/bench_sparql_workers.py [--studies 1000 10000 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

from evidencemap.errors import QueryTimeout
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.queries import get_named_query
from evidencemap.model.vocabulary import load_vocabulary
from evidencemap.settings import Settings
from evidencemap.sparql.execution import QueryRequest
from evidencemap.sparql.workers import WorkerPool
from evidencemap.web.sparql_editor import with_trailing_values
from synthetic import write_map

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SERIALISERS = {"tabular": "json", "boolean": "json", "graph": "turtle"}


def memory(pid: int) -> dict[str, float]:
    """RSS, PSS and USS (private pages) of a process, in MiB."""
    fields: dict[str, float] = {}
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                fields[parts[0].rstrip(":")] = int(parts[1]) / 1024
    return {"rss": fields["Rss"], "pss": fields["Pss"],
            "uss": fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)}


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def measure(studies: int) -> None:
    synthetic = write_map(studies)
    before = memory(os.getpid())["rss"]
    started = time.perf_counter()
    evidence_map = EvidenceMap.load(Settings(data=[synthetic.path]))
    load_s = time.perf_counter() - started
    main_mib = memory(os.getpid())["rss"] - before
    quads = len(evidence_map.store)

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        evidence_map.store.dump(Path(folder) / "store.nq", format=ox.RdfFormat.N_QUADS)
        dump_s = time.perf_counter() - started

    settings = Settings(query_timeout=30.0, sparql_workers=2, max_rows=100_000)
    pool = WorkerPool(evidence_map.store, settings)
    started = time.perf_counter()
    pool.start()
    assert pool._startup is not None
    await pool._startup
    ready_s = time.perf_counter() - started
    zygote_load_s = float(pool.zygote.info["seconds"])  # type: ignore[arg-type]

    named = get_named_query("online-studies-burnout")
    text = with_trailing_values(named.text, named.bindings(load_vocabulary(evidence_map), {}))
    direct, through, inside = [], [], []
    for _ in range(7):
        t = time.perf_counter()
        evidence_map.store.query(text, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.JSON)
        direct.append(time.perf_counter() - t)
        t = time.perf_counter()
        outcome = await pool.run(QueryRequest(text, SERIALISERS, max_rows=settings.max_rows))
        through.append(time.perf_counter() - t)
        inside.append(outcome.seconds)

    assert pool.zygote.process is not None
    zygote_mem = memory(pool.zygote.process.pid)
    workers_mem = [memory(pid) for pid in pool.worker_pids()]

    pool.settings = settings.replace(query_timeout=1.0)
    started = time.perf_counter()
    with contextlib.suppress(QueryTimeout):
        await pool.run(QueryRequest(RUNAWAY, SERIALISERS))
    runaway_s = time.perf_counter() - started
    spawn = []
    for _ in range(3):
        t = time.perf_counter()
        worker = await asyncio.to_thread(pool.zygote.spawn)
        spawn.append(time.perf_counter() - t)
        await asyncio.to_thread(pool.zygote.kill, worker)
    await pool.stop()

    print(f"\n{studies:,} studies, {quads:,} quads")
    print(f"  server load from files   {load_s:8.2f} s   {main_mib:8.0f} MiB  (= a worker rebuilding from files)")
    print(f"  dump for the zygote      {dump_s:8.2f} s")
    print(f"  zygote loads the dump    {zygote_load_s:8.2f} s   {zygote_mem['rss']:8.0f} MiB RSS")
    print(f"  pool ready after         {ready_s:8.2f} s   (dump + interpreter start + load + 2 forks)")
    for i, m in enumerate(workers_mem, 1):
        print(f"  worker {i}                  RSS {m['rss']:6.0f} MiB, PSS {m['pss']:6.0f} MiB, "
              f"private {m['uss']:6.0f} MiB")
    print(f"  fork a fresh worker      {median_ms(spawn):8.1f} ms (median of 3)")
    print(f"  runaway query answered   {runaway_s:8.2f} s   (limit 1 s; its worker SIGKILLed before the answer)")
    print(f"  burnout query, JSON      {median_ms(direct):8.1f} ms on the store, {median_ms(through):.1f} ms through a "
          f"worker, {median_ms(inside):.1f} ms of it in the worker ({outcome.rows:,} rows; median of 7)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--studies", type=int, nargs="+", default=[1000, 10_000])
    args = parser.parse_args(argv)
    print(f"Python {sys.version.split()[0]}, pyoxigraph {ox.__version__ if hasattr(ox, '__version__') else '?'}, "
          f"{os.cpu_count()} CPUs")
    for studies in args.studies:
        asyncio.run(measure(studies))
    return 0


if __name__ == "__main__":
    sys.exit(main())
