"""Living map: the time from a write's commit to an up-to-date facet index, by map size: the index followed from
the previous version (model/facet_index.py, ``FacetIndex.following``) against the whole build a write used to need.

For each size of synthetic map (see synthetic.py), the map is loaded, its facet index built with every facet and
every facet's support ranks (as a server that has answered ``support=`` once holds it), and the map opened for
writing in a temporary state folder. Then ``--repeat`` changes are committed one after the other, alternately a new
study (at the end of the list) and the retraction of a study from the middle of the list (every later study moves
up a row). It prints the median time of the follow step inside each commit, the median commit as a whole
(``changes.submit``: the check, the record, the journal's fsync, the store transaction, the follow), the next study
list with the delivery counts after the write (the index is there: no wait), and the whole build of the index
with every facet and ranks for the same version (``--whole`` builds, the time a reader waited for, or a background
warm-up spent, before).

With ``--requests``, it measures instead the first request of each kind after a write through the app
(``POST /api/studies``), with the structures that follow the change (facet index, search index, the review's claim
rows), against the same request after every derived structure is dropped (``EvidenceMap.changed()`` without the
change: what a write did before): medians over ``--repeat`` writes.

    python benchmarks/bench_living_index.py [--sizes 1000,10000,100000] [--repeat 10] [--whole 2] [--requests]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from evidencemap.graph.store import Delta, EvidenceMap
from evidencemap.graph.tokens import TokenStore
from evidencemap.graph.writes import LivingMap
from evidencemap.model import changes, edits
from evidencemap.model.facet_index import FacetIndex, index_of
from evidencemap.model.facets import Selection, facet_counts, select_studies
from evidencemap.model.support import support_levels
from evidencemap.model.vocabulary import Vocabulary, vocabulary_of
from evidencemap.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_edits import FACETS, PASSAGE_QUERY, body  # the same added study as the edit benchmark's
from synthetic import write_map


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms" if values else "–"


def full_index(evidence_map: EvidenceMap, vocabulary: Vocabulary) -> FacetIndex:
    """The index with every facet and every concept facet's support ranks read."""
    index = index_of(evidence_map).warm(vocabulary.facets)
    strongest = support_levels(evidence_map).names[0]
    for facet in vocabulary.concept_facets:
        index.value_masks(facet, strongest)
    return index


def timed_following(into: list[float]) -> Callable[[FacetIndex, Delta], FacetIndex | None]:
    real = FacetIndex.following

    def following(index: FacetIndex, delta: Delta) -> FacetIndex | None:
        started = time.perf_counter()
        try:
            return real(index, delta)
        finally:
            into.append(time.perf_counter() - started)

    return following


def measure(size: int, repeat: int, wholes: int) -> str:
    synthetic = write_map(size)
    evidence_map = EvidenceMap.load(Settings(data=[synthetic.path], persistent_store=False))
    vocabulary = vocabulary_of(evidence_map)
    follows: list[float] = []
    FacetIndex.following = timed_following(follows)  # type: ignore[method-assign]
    full_index(evidence_map, vocabulary)
    with tempfile.TemporaryDirectory() as state:
        living = LivingMap(evidence_map, Path(state))
        token = TokenStore(Path(state)).create(living.slug, "Benchmark")[0]
        passage = evidence_map.canonical(str(evidence_map.select(PASSAGE_QUERY)[0]["p"]))
        values = {f: vocabulary.facet(f).concepts[0].slug for f in FACETS}
        commits: dict[str, list[float]] = {"add": [], "retract": []}
        followed: dict[str, list[float]] = {"add": [], "retract": []}
        relists: list[float] = []
        whole: list[float] = []
        for n in range(repeat + 1):  # the first change also reads the shapes and the vocabulary graph: not counted
            kind = "add" if n % 2 == 0 else "retract"
            if kind == "add":
                edit = edits.add_study(living, edits.parse_body(living, vocabulary, body(n, passage, values),
                                                                edits.JSON))
            else:
                index = index_of(evidence_map)
                edit = edits.retract_study(living, index.studies[index.size // 2].rsplit("/", 1)[-1])
            before = len(follows)
            started = time.perf_counter()
            changes.submit(living, vocabulary, edit, token, f"Benchmark change {n}")
            commit = time.perf_counter() - started
            assert len(follows) == before + 1, "the index did not follow the change"
            started = time.perf_counter()
            facet_counts(evidence_map, vocabulary.facet("delivery"), Selection())
            select_studies(evidence_map, Selection())
            relist = time.perf_counter() - started
            if n:
                commits[kind].append(commit)
                followed[kind].append(follows[-1])
                relists.append(relist)
            if n and len(whole) < wholes:
                fresh = EvidenceMap(store=evidence_map.store, settings=evidence_map.settings)
                started = time.perf_counter()
                full_index(fresh, vocabulary)
                whole.append(time.perf_counter() - started)
        living.close()
    return (f"| {size:,} | {ms(followed['add'])} | {ms(followed['retract'])} | {ms(commits['add'])} | "
            f"{ms(commits['retract'])} | {ms(relists)} | {ms(whole)} |")


REQUESTS = ("/api/studies?delivery=online&limit=20", "/api/facets", "/api/gapmap?rows=component&cols=delivery",
            "/api/ask?q=which+online+studies+reported+burnout")


def requests_after_writes(size: int, repeat: int) -> list[str]:
    """Rows of the table of first requests after a write: followed structures against everything dropped."""
    from fastapi.testclient import TestClient

    from evidencemap.web.app import create_app

    data = write_map(size).path
    evidence_map = EvidenceMap.load(Settings(data=[data], persistent_store=False))
    vocabulary = vocabulary_of(evidence_map)
    passage = evidence_map.canonical(str(evidence_map.select(PASSAGE_QUERY)[0]["p"]))
    values = {f: vocabulary.facet(f).concepts[0].slug for f in FACETS}
    followed: dict[str, list[float]] = {path: [] for path in REQUESTS}
    dropped: dict[str, list[float]] = {path: [] for path in REQUESTS}
    with tempfile.TemporaryDirectory() as state:
        app = create_app(Settings(data=[data], state=state, persistent_store=False, sparql_workers=1), evidence_map)
        token = TokenStore(Path(state)).create(app.state.living.slug, "Benchmark")[1]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with TestClient(app) as client:
            for path in REQUESTS:
                client.get(path)
            for n in range(repeat + 1):  # the first write also reads the shapes: not counted
                response = client.post("/api/studies?message=Benchmark", content=body(n, passage, values),
                                       headers=headers)
                assert response.status_code == 201, response.text
                for into in (followed, dropped):
                    if into is dropped:
                        evidence_map.changed()  # every derived structure dropped, as a write did before
                    for path in REQUESTS:
                        started = time.perf_counter()
                        assert client.get(path).status_code == 200
                        if n:
                            into[path].append(time.perf_counter() - started)
        app.state.living.close()
    return [f"| {size:,} | `{path}` | {ms(dropped[path])} | {ms(followed[path])} |" for path in REQUESTS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated numbers of studies")
    parser.add_argument("--repeat", type=int, default=10, help="changes per size (half added studies, half "
                                                               "retractions; medians over them)")
    parser.add_argument("--whole", type=int, default=2, help="whole builds of the index per size, for comparison")
    parser.add_argument("--requests", action="store_true", help="time the first requests after a write instead")
    args = parser.parse_args(argv)
    if args.requests:
        print("| studies | first request after a write | everything dropped (before) | facet index, search index, "
              "claim rows followed |")
        print("|---:|---|---:|---:|")
        for size in (int(s) for s in args.sizes.split(",")):
            print("\n".join(requests_after_writes(size, args.repeat)), flush=True)
        return 0
    print("| studies | index follows an added study | follows a retraction | commit, added study | commit, "
          "retraction | next study list + counts | whole index build (before) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    real = FacetIndex.following
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            print(measure(size, args.repeat, args.whole), flush=True)
            FacetIndex.following = real  # type: ignore[method-assign]
    finally:
        FacetIndex.following = real  # type: ignore[method-assign]
    return 0


if __name__ == "__main__":
    sys.exit(main())
