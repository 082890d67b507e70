"""One map of several: what a scoped view (EvidenceMap.scoped) costs against the same map loaded alone.

For each size of synthetic map (see synthetic.py) this loads the map alone, and the map together with the bundled
map (two maps in one store), then prints the median time of the same work on the map alone and on its scoped view
of the shared store: building the facet index (every facet), the SPARQL of a few study selections and of one facet's
counts (facets.sparql_*), and counting the included studies; after checking that both give the same answers. The
view's queries run with pyoxigraph's ``default_graph`` set to the core vocabulary and the map's graphs.

    python benchmarks/bench_scoped.py [--sizes 1000,10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from evidencemap.graph.store import EvidenceMap
from evidencemap.model.facet_index import FacetIndex
from evidencemap.model.facets import Selection, sparql_facet_counts, sparql_select_studies
from evidencemap.model.vocabulary import load_vocabulary
from evidencemap.resources import bundled_map_dir
from evidencemap.settings import Settings
from synthetic import write_map

SELECTIONS = {
    "no filter": {},
    "delivery=online": {"delivery": ["online"]},
    "delivery=online & challenge=burnout": {"delivery": ["online"], "challenge": ["emotional-vulnerability-burnout"]},
}
COUNT = "SELECT (COUNT(?s) AS ?n) WHERE { ?s a <https://w3id.org/evidencemap/ontology#IncludedStudy> }"


def median_ms(work: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def measure(evidence_map: EvidenceMap, repeat: int) -> dict[str, tuple[float, object]]:
    vocabulary = load_vocabulary(evidence_map)
    out: dict[str, tuple[float, object]] = {}
    out["facet index, every facet"] = median_ms(
        lambda: sorted(FacetIndex.build(evidence_map).warm(vocabulary.facets).state()), repeat)
    for name, params in SELECTIONS.items():
        selection = Selection.parse(vocabulary, params)
        out[f"SPARQL studies: {name}"] = median_ms(
            lambda s=selection: sorted(sparql_select_studies(evidence_map, s)), repeat)  # type: ignore[misc]
    outcome = next(f for f in vocabulary.facets if f.name == "outcome")
    everything = Selection.parse(vocabulary, {})
    out["SPARQL counts: outcome"] = median_ms(
        lambda: sorted(sparql_facet_counts(evidence_map, outcome, everything).items()), repeat)
    out["SPARQL count of studies"] = median_ms(lambda: evidence_map.select(COUNT)[0]["n"], repeat)
    return out


EDITION = """<https://w3id.org/evidencemap/data/map/synthetic-{n}> a <http://www.w3.org/ns/dcat#Dataset> ;
    <http://www.w3.org/ns/prov#wasDerivedFrom> <https://w3id.org/evidencemap/data/review/synthetic-{n}> .
"""


def as_map(path: Path, studies: int) -> Path:
    """A folder holding the synthetic map and an edition record for it, so that it is a map of its own beside another
    (a file without one joins the map named next to it)."""
    folder = path.with_name(f"map-{path.stem}")
    folder.mkdir(exist_ok=True)
    link = folder / path.name
    if not link.exists():
        link.symlink_to(path)
    (folder / "edition.ttl").write_text(EDITION.format(n=studies), encoding="utf-8")
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated numbers of studies")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    for size in (int(s) for s in args.sizes.split(",")):
        folder = as_map(write_map(size).path, size)
        alone = EvidenceMap.load(Settings(data=[folder]))
        shared = EvidenceMap.load(Settings(data=[bundled_map_dir(), folder]))
        slug = f"synthetic-{size}"
        view = shared.scoped(slug)
        print(f"\n{size} studies ({alone.triple_count():,} quads alone; {shared.triple_count():,} in the store of "
              f"two maps, of which the view sees {view.triple_count():,})")
        print(f"{'work':45} {'alone ms':>10} {'view ms':>10} {'ratio':>6}")
        first, second = measure(alone, args.repeat), measure(view, args.repeat)
        for name, (ms_alone, answer) in first.items():
            ms_view, seen = second[name]
            if answer != seen:
                print(f"{name}: the view answers differently", file=sys.stderr)
                return 1
            print(f"{name:45} {ms_alone:10.1f} {ms_view:10.1f} {ms_view / ms_alone:6.2f}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
