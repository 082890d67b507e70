"""The benchmark's candidates, each run in a fresh process by ``bench_store.py``:

    python benchmarks/candidates.py run|validate rdflib|pyoxigraph|evidencemap FILE REPEAT CAP_SECONDS


* ``rdflib``: one in-memory ``rdflib.Graph`` holding the vocabulary, the map and the materialised findings (the same
  content the product's union default graph shows), queried with the named queries' parameter values written in.
* ``pyoxigraph``: a raw in-memory ``pyoxigraph.Store`` loaded file by file with ``Store.load`` into the product's
  named graphs, findings materialised by one SPARQL update, and the very SPARQL text rdflib runs (parameter values
  written in as a VALUES block: pyoxigraph's ``substitutions`` hide the values from its join planner).
* ``evidencemap``: the product's own path (``EvidenceMap.load``, ``load_vocabulary``, ``EvidenceMap.select``,
  ``facets.select_studies`` / ``facet_counts``, ``validation.validate_map``).

A worker prints one ``RESULT {json}`` line: load seconds, peak RSS, and per query the median seconds, "timeout" or
an error. Each query is measured in a forked child that is killed at the cap (see :func:`measure`); SHACL
validation, pure Python, is stopped by a SIGALRM instead.
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.graph.loading import MATERIALISE_FINDINGS, build_store
from evidencemap.graph.store import Binding, EvidenceMap
from evidencemap.model.facets import Selection, counts_query, facet_counts, select_studies, studies_query
from evidencemap.model.queries import NamedQuery, named_queries
from evidencemap.model.vocabulary import Vocabulary, load_vocabulary
from evidencemap.settings import Settings

CANDIDATES = ("rdflib", "pyoxigraph", "evidencemap")
FACET_SELECTION = {"delivery": ["online"], "challenge": ["emotional-vulnerability-burnout"]}
STUDIES_ROW = "facets: studies (delivery=online & challenge=burnout)"
COUNTS_ROW = "facets: counts, every facet"


# Inferred statements that no finding asserts: zero means nothing else (no hierarchy closure) is materialised.
INFERRED_WITHOUT_FINDING = f"""
PREFIX rdf: <{ns.RDF}>
PREFIX evm: <{ns.EVM}>
SELECT (COUNT(*) AS ?n) WHERE {{
  GRAPH <{ns.GRAPH_INFERRED}> {{ ?s ?p ?o }}
  MINUS {{ GRAPH ?g {{ ?f a evm:Finding ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o }} }}
}}"""  # MINUS, a hash anti-join in pyoxigraph (40 ms at 1,000 studies); FILTER NOT EXISTS took 140 s there


class ValidationTimeout(BaseException):
    """Raised by the alarm; a BaseException so that no ``except Exception`` in a library swallows it."""


@contextmanager
def time_cap(seconds: float) -> Iterator[None]:
    def alarm(signum: int, frame: object) -> None:
        raise ValidationTimeout

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


STEADY_SECONDS = 0.25  # fast queries are repeated until this much time has passed ...
STEADY_MAX_RUNS = 50  # ... or this many runs, so that the median of sub-millisecond queries is steady


def measure(runs: dict[str, Callable[[], object]], repeat: int, cap: float) -> dict[str, float | str]:
    """Median seconds of at least ``repeat`` runs of each of ``runs``, taken in turns, in a forked child.

    A fork shares the loaded store copy-on-write, so nothing is reloaded; killing it is the only way to stop a
    pyoxigraph query, which does not return to Python (nor see a signal) until it is done. Taking the runs in turns
    (A B A B ...) compares two ways of answering a query under the same machine load. The child is killed once
    ``cap`` seconds per way have passed; runs cut off are dropped, and "timeout" means no run finished.
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, report each time as it comes, and leave without any cleanup
        os.close(read)
        try:
            times: list[float] = []
            while len(times) < repeat or (sum(times) < STEADY_SECONDS and len(times) < STEADY_MAX_RUNS):
                for name, run in runs.items():
                    started = time.perf_counter()
                    run()
                    elapsed = time.perf_counter() - started
                    os.write(write, f"{name}\t{elapsed!r}\n".encode())
                times.append(elapsed)
                if sum(times) >= cap:
                    break
        except Exception as exc:
            message = f"error: {type(exc).__name__}: {str(exc).splitlines()[0][:80] if str(exc) else ''}"
            os.write(write, (message.replace("\n", " ") + "\n").encode())
        os._exit(0)
    os.close(write)
    deadline = time.monotonic() + cap * len(runs)
    chunks: list[bytes] = []
    timed_out = False
    os.set_blocking(read, False)
    while True:
        chunks.extend(_drain(read))
        finished, _ = os.waitpid(pid, os.WNOHANG)
        if finished:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            timed_out = True
            break
        time.sleep(0.002)
    chunks.extend(_drain(read))
    os.close(read)
    lines = b"".join(chunks).decode().splitlines()
    error = next((line for line in lines if line.startswith("error")), None)
    out: dict[str, float | str] = {}
    for name in runs:
        times = [float(line.split("\t")[1]) for line in lines if line.startswith(f"{name}\t")]
        if times:
            out[name] = statistics.median(times)
        else:
            out[name] = error or ("timeout" if timed_out else "error: no result")
    return out


def _drain(fd: int) -> list[bytes]:
    out = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return out
        if not chunk:
            return out
        out.append(chunk)


def with_values(text: str, bindings: dict[str, Binding]) -> str:
    """The query with its parameter values written in, as a VALUES block opening the WHERE group."""
    if not bindings:
        return text
    match = re.search(r"\bWHERE\s*\{", text, re.IGNORECASE)
    if match is None:
        raise ValueError("query has no WHERE group")
    names = " ".join(f"?{name}" for name in bindings)
    values = " ".join(str(term) for term in bindings.values())
    return f"{text[:match.end()]}\n  VALUES ({names}) {{ ({values}) }}{text[match.end():]}"


def reference() -> tuple[Vocabulary, list[tuple[NamedQuery, dict[str, Binding]]], Selection]:
    """Named queries with their default bindings, and the facet selection, resolved as the product does.

    The vocabulary comes from the ontology alone (the bundled map), so no candidate's timing includes it.
    """
    vocabulary = load_vocabulary(EvidenceMap(store=build_store(), settings=Settings()))
    queries = [(q, q.bindings(vocabulary, {})) for q in named_queries()]
    return vocabulary, queries, Selection.parse(vocabulary, FACET_SELECTION)


def raw_runners(store: ox.Store, queries: list[tuple[NamedQuery, dict[str, Binding]]], selection: Selection,
                facet_texts: list[str]) -> dict[str, Callable[[], object]]:
    """The raw pyoxigraph way to answer each row: the SPARQL text rdflib gets, solutions read as tuples of terms."""

    def run(text: str) -> int:
        return len([tuple(solution) for solution in store.query(text, use_default_graph_as_union=True)])

    runners: dict[str, Callable[[], object]] = {
        q.name: partial(run, with_values(q.text, bindings)) for q, bindings in queries
    }
    runners[STUDIES_ROW] = partial(run, studies_query(selection))
    runners[COUNTS_ROW] = lambda: [run(text) for text in facet_texts]
    return runners


def run_worker(name: str, path: Path, repeat: int, cap: float) -> dict[str, Any]:
    vocabulary, queries, selection = reference()
    facet_texts = [counts_query(f, selection) for f in vocabulary.facets]
    result: dict[str, Any] = {"candidate": name, "queries": {}, "paired_raw": {}}
    started = time.perf_counter()
    runners: dict[str, Callable[[], object]] = {}
    paired: dict[str, Callable[[], object]] = {}  # raw pyoxigraph runs taken in turns with the product's
    if name == "rdflib":
        graph = load_rdflib(path)
        result["load_s"] = time.perf_counter() - started
        result["triples"] = len(graph)

        def ask(text: str) -> int:
            return len(list(graph.query(text)))

        for q, bindings in queries:
            runners[q.name] = partial(ask, with_values(q.text, bindings))
        runners[STUDIES_ROW] = partial(ask, studies_query(selection))
        runners[COUNTS_ROW] = lambda: [ask(t) for t in facet_texts]
    elif name == "pyoxigraph":
        store = load_pyoxigraph(path)
        result["load_s"] = time.perf_counter() - started
        result["triples"] = len(store)
        runners.update(raw_runners(store, queries, selection, facet_texts))
    elif name == "evidencemap":
        evidence_map = EvidenceMap.load(Settings(data=[path]))
        product_vocabulary = load_vocabulary(evidence_map)
        result["load_s"] = time.perf_counter() - started
        result["triples"] = len(evidence_map.store)
        product_selection = Selection.parse(product_vocabulary, FACET_SELECTION)
        result["inferred_without_finding"] = evidence_map.select(INFERRED_WITHOUT_FINDING)[0]["n"]
        result["hierarchy_by_property_path"] = "skos:broader*" in studies_query(product_selection)
        for q, bindings in queries:
            runners[q.name] = lambda q=q, bindings=bindings: evidence_map.select(q.text, bindings)
        runners[STUDIES_ROW] = lambda: select_studies(evidence_map, product_selection)
        runners[COUNTS_ROW] = lambda: [
            facet_counts(evidence_map, f, product_selection) for f in product_vocabulary.facets
        ]
        paired.update(raw_runners(evidence_map.store, queries, selection, facet_texts))
    else:
        raise SystemExit(f"unknown candidate {name!r}: use one of {', '.join(CANDIDATES)}")
    result["rss_after_load_mb"] = peak_rss_mb()
    for row, runner in runners.items():
        if row in paired:
            both = measure({"product": runner, "raw": paired[row]}, repeat, cap)
            result["queries"][row], result["paired_raw"][row] = both["product"], both["raw"]
        else:
            result["queries"][row] = measure({"run": runner}, repeat, cap)["run"]
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result["peak_rss_mb"] = max(peak_rss_mb(), children)
    return result


def load_rdflib(path: Path) -> Any:
    from rdflib import Graph, Namespace
    from rdflib.namespace import RDF

    from evidencemap.resources import vocabulary_files

    graph = Graph()
    for vocabulary_file in vocabulary_files():
        graph.parse(vocabulary_file, format="turtle")
    graph.parse(path, format="nt" if path.suffix == ".nt" else "turtle")
    # Materialised in Python: rdflib's SPARQL INSERT over the same join is far slower, and this is its best case.
    evm = Namespace(ns.EVM)
    statements = []
    for finding in graph.subjects(RDF.type, evm.Finding):
        s, p, o = (graph.value(finding, RDF[x]) for x in ("subject", "predicate", "object"))
        if s is not None and p is not None and o is not None:
            statements.append((s, p, o))
    for triple in statements:
        graph.add(triple)
    return graph


def load_pyoxigraph(path: Path) -> ox.Store:
    from evidencemap.resources import vocabulary_files

    store = ox.Store()
    for vocabulary_file in vocabulary_files():
        store.load(path=vocabulary_file, format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(ns.GRAPH_VOCABULARY))
    fmt = ox.RdfFormat.N_TRIPLES if path.suffix == ".nt" else ox.RdfFormat.TURTLE
    store.load(path=path, format=fmt, to_graph=ox.NamedNode(ns.GRAPH_DATA))
    store.update(MATERIALISE_FINDINGS)
    return store


def run_validation(name: str, path: Path, cap: float) -> dict[str, Any]:
    """SHACL validation with the project's shapes: pyshacl on the rdflib graph, or the product's validate_map."""
    from evidencemap.resources import shapes_files

    if not shapes_files():
        return {"candidate": name, "validation": "skipped (no shapes in shapes/)"}
    from evidencemap.graph.validation import shapes_graph, validate_map

    shapes = shapes_graph()
    if name == "rdflib":
        from pyshacl import validate

        graph = load_rdflib(path)

        def run() -> object:
            conforms, _, _ = validate(graph, shacl_graph=shapes, inference="none", allow_warnings=True,
                                      allow_infos=True, advanced=True)
            return conforms
    else:
        evidence_map = EvidenceMap.load(Settings(data=[path]))

        def run() -> object:
            return validate_map(evidence_map).conforms

    outcome: dict[str, Any] = {"candidate": name}
    try:
        with time_cap(cap):
            started = time.perf_counter()
            outcome["conforms"] = bool(run())
            outcome["validation"] = time.perf_counter() - started
    except ValidationTimeout:
        outcome["validation"] = "timeout"
    return outcome


def worker_main(kind: str, name: str, path: Path, repeat: int, cap: float) -> int:
    result = run_validation(name, path, cap) if kind == "validate" else run_worker(name, path, repeat, cap)
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])))
