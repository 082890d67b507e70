"""Living map: the time to validate and apply one added study, by map size (issue 13's target: about 50 ms at
10,000 studies).

For each size of synthetic map (see synthetic.py), the map is loaded and opened for writing in a temporary state
folder, then ``--repeat`` new studies (each a record, a report, an intervention and 5 findings citing a passage of
the map, sent as the JSON shape of GET /api/studies/{id}) are added one after the other, as ``POST /api/studies``
does it. It prints the median time of each step: reading the body into triples, the check of the subgraph (SHACL
on the study's resources with the vocabulary, quotes, unique slug and reference number), and the commit (PROV
record, facet values for the feeds, journal append with fsync, one store transaction, caches dropped), then the
whole change; and the time the next study list takes, when the facet index is rebuilt for the new version.

    python benchmarks/bench_edits.py [--sizes 1000,10000,100000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from evidencemap.graph.change_checks import check_subgraph
from evidencemap.graph.store import EvidenceMap
from evidencemap.graph.tokens import TokenStore
from evidencemap.graph.writes import LivingMap
from evidencemap.model import changes, edits
from evidencemap.model.facet_index import index_of
from evidencemap.model.facets import Selection, facet_counts, select_studies
from evidencemap.model.vocabulary import vocabulary_of
from evidencemap.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import write_map

PASSAGE_QUERY = "PREFIX evm: <https://w3id.org/evidencemap/ontology#> SELECT ?p WHERE { ?p a evm:Passage } LIMIT 1"
FACETS = ("design", "delivery", "evidence-type", "schedule", "country")  # one value each: 5 findings


def body(n: int, passage: str, values: dict[str, str]) -> bytes:
    facts = [{"facet": facet, "value": value, "support": "inferred", "rationale": "Benchmark data.",
              "passage": passage} for facet, value in values.items()]
    return json.dumps({"id": f"bench-{n}", "ref": 900_000 + n, "citation": f"Bench {n}", "title": "Benchmark",
                       "year": 2026, "authors": "Bench B", "intervention": {"label": "A benchmark group"},
                       "facts": facts}).encode()


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms"


def measure(size: int, repeat: int) -> str:
    synthetic = write_map(size)
    started = time.perf_counter()
    evidence_map = EvidenceMap.load(Settings(data=[synthetic.path], persistent_store=False))
    load = time.perf_counter() - started
    vocabulary = vocabulary_of(evidence_map)
    index_of(evidence_map).warm(vocabulary.facets)
    with tempfile.TemporaryDirectory() as state:
        living = LivingMap(evidence_map, Path(state))
        token = TokenStore(Path(state)).create(living.slug, "Benchmark")[0]
        passage = evidence_map.canonical(str(evidence_map.select(PASSAGE_QUERY)[0]["p"]))
        values = {f: vocabulary.facet(f).concepts[0].slug for f in FACETS}
        parse, check, commit, whole, relist = [], [], [], [], []
        for n in range(repeat + 1):  # the first change also reads the shapes and the vocabulary graph: not counted
            t0 = time.perf_counter()
            edit = edits.add_study(living, edits.parse_body(living, vocabulary, body(n, passage, values), edits.JSON))
            t1 = time.perf_counter()
            problems = check_subgraph(living, edit.focus, edit.added, edit.removed)
            t2 = time.perf_counter()
            assert not problems, problems
            changes.submit(living, vocabulary, edit, token, f"Benchmark study {n}")  # checks again, then commits
            t3 = time.perf_counter()
            facet_counts(evidence_map, vocabulary.facet("delivery"), Selection())
            select_studies(evidence_map, Selection())
            t4 = time.perf_counter()
            if n:
                parse.append(t1 - t0)
                check.append(t2 - t1)
                commit.append((t3 - t2) - (t2 - t1))  # submit's own time minus its check
                whole.append((t1 - t0) + (t3 - t2))
                relist.append(t4 - t3)
        living.close()
    return (f"| {size:,} | {load:.1f} s | {ms(parse)} | {ms(check)} | {ms(commit)} | **{ms(whole)}** | "
            f"{ms(relist)} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated numbers of studies")
    parser.add_argument("--repeat", type=int, default=15, help="studies added per size (medians over them)")
    args = parser.parse_args(argv)
    print("| studies | load | body -> triples | check (SHACL on the subgraph, quotes, unique keys) | commit "
          "(record, journal fsync, transaction) | one added study, validated and applied | next study list "
          "(facet index rebuilt) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for size in (int(s) for s in args.sizes.split(",")):
        print(measure(size, args.repeat), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
