"""Keep the store benchmark working: generate a tiny synthetic map, run the benchmark on it, check what it prints.

Only the structure is checked (sizes, candidates, every named query as a row, the targets table), never timings.
The speed-up the benchmark led to (parameters bound as a VALUES block, not pyoxigraph substitutions) is checked
here for what matters: the same solutions as substitutions give, for every named query and parameter value.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from evidencemap import namespaces as ns
from evidencemap.graph.store import EvidenceMap, to_python, with_values
from evidencemap.model.queries import named_queries
from evidencemap.model.vocabulary import load_vocabulary
from evidencemap.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
STUDIES = 50
BENCH_SELECTIONS = ["no filter", "delivery=online", "delivery=online & challenge=burnout",
                    "modality=structured & component=psychoeducation,skill-building"]


def run_script(*args: str) -> str:
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def synthetic_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synthetic")
    printed = run_script(str(BENCH / "synthetic.py"), "--studies", str(STUDIES), "--out", str(out))
    path, studies, triples = printed.strip().split("\t")
    assert studies == f"{STUDIES} studies"
    assert int(triples.split()[0]) > 0
    return Path(path)


def test_synthetic_map_loads_through_the_product_with_findings_materialised(synthetic_file: Path) -> None:
    evidence_map = EvidenceMap.load(Settings(data=[synthetic_file]))
    rows = evidence_map.select(
        ns.sparql_prefixes(("evm", "rdf"))
        + """SELECT (COUNT(DISTINCT ?study) AS ?studies) (COUNT(?f) AS ?findings) WHERE {
               ?study a evm:IncludedStudy . ?f a evm:Finding ; rdf:subject ?study }"""
    )
    assert rows[0]["studies"] == STUDIES
    (slug,) = evidence_map.map_slugs()  # one map, named after its file (it has no edition record)
    inferred_count = evidence_map.triple_count(ns.map_graph(slug, "inferred"))
    assert inferred_count == rows[0]["findings"] + count_intervention_findings(evidence_map)
    delivery = ox.NamedNode(ns.EVM + "delivery")
    inferred = ox.NamedNode(ns.map_graph(slug, "inferred"))
    assert any(True for _ in evidence_map.store.quads_for_pattern(None, delivery, None, inferred))


def count_intervention_findings(evidence_map: EvidenceMap) -> int:
    rows = evidence_map.select(
        ns.sparql_prefixes(("evm", "rdf"))
        + "SELECT (COUNT(?f) AS ?n) WHERE { ?f a evm:Finding ; rdf:subject ?i . ?i a evm:Intervention }"
    )
    return int(rows[0]["n"])


def test_benchmark_prints_every_candidate_query_and_target(synthetic_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "bench.md"
    printed = run_script(
        str(BENCH / "bench_store.py"), "--sizes", str(STUDIES), "--repeat", "1", "--skip-validation", "--no-serve",
        "--data-dir", str(synthetic_file.parent), "--out", str(out),
    )
    lines = printed.splitlines()
    header = next(line for line in lines if line.startswith("| measure |"))
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "measure", "rdflib", "pyoxigraph", "evidencemap", "evidencemap ÷ pyoxigraph"
    ]
    assert f"### {STUDIES} studies" in lines
    labels = [line.split("|")[1].strip() for line in lines if line.startswith("| ") and line.count("|") == 6]
    expected = [f"query `{q.name}`" for q in named_queries()]
    assert expected == [label for label in labels if label.startswith("query `")]
    assert {"load", "SHACL validation", "peak RSS (load + queries)"} <= set(labels)
    assert "### Targets of issue 2" in lines
    for row in (line for line in lines if line.startswith("| ") and line.count("|") == 6 and "query `" in line):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert all(cell.endswith(" ms") or cell == "timeout" for cell in cells[1:4]), row
    written = out.read_text(encoding="utf-8")
    assert written.startswith("<!-- bench_store.py: begin -->") and "### Targets of issue 2" in written


def test_facet_benchmark_prints_both_columns_for_every_selection(synthetic_file: Path) -> None:
    printed = run_script(str(BENCH / "bench_facets.py"), "--sizes", str(STUDIES), "--repeat", "1",
                         "--data-dir", str(synthetic_file.parent))
    lines = printed.splitlines()
    assert f"### {STUDIES} studies" in lines
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| selection")]
    assert [r.split("|")[1].strip() for r in rows] == BENCH_SELECTIONS
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert int(cells[1].replace(",", "")) <= STUDIES
        assert all(cell.endswith(" ms") for cell in cells[2:]), row


def _by_substitution(evidence_map: EvidenceMap, text: str, bindings: dict[str, ox.NamedNode | ox.Literal]) -> list:
    substitutions = {ox.Variable(k): v for k, v in bindings.items()} or None
    solutions = evidence_map.store.query(text, use_default_graph_as_union=True, substitutions=substitutions)
    names = [v.value for v in solutions.variables]
    return [{n: to_python(t) for n, t in zip(names, s, strict=True) if t is not None} for s in solutions]


def _canonical(rows: list) -> list:
    return sorted(sorted((k, str(v)) for k, v in row.items()) for row in rows)


def test_values_binding_matches_substitutions_for_every_named_query_and_value() -> None:
    evidence_map = EvidenceMap.load(Settings())
    vocabulary = load_vocabulary(evidence_map)
    checked = 0
    for query in named_queries():
        choices: list[dict[str, str]] = [{}]
        for p in query.parameters:
            values = [c.slug for c in vocabulary.facet(p.facet).concepts] if p.facet else ["35", "44", "99"]
            choices += [{p.name: v} for v in values]
        for choice in choices:
            bindings = query.bindings(vocabulary, choice)
            expected = _canonical(_by_substitution(evidence_map, query.text, bindings))
            assert _canonical(evidence_map.select(query.text, bindings)) == expected, (query.name, choice)
            checked += 1
    assert checked > len(named_queries())


def test_values_block_skips_where_in_comments_strings_and_iris() -> None:
    text = '# where { not here\nSELECT ?x WHERE { ?x <http://ex/where{> "WHERE {" }'
    bound = with_values(text, {"x": ox.Literal('a"b')})
    assert bound is not None
    assert bound.index("VALUES") > bound.index("SELECT ?x WHERE {")
    assert with_values("SELECT * { ?s ?p ?o }", {"s": ox.NamedNode("http://ex/s")}) is None
    assert with_values(text, {"x": ox.BlankNode()}) is None
