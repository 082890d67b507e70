"""The shapes compiled to SPARQL (graph/shacl_sparql.py) give pySHACL's results: the same focus node, path, value,
source shape, component, severity and message, on the bundled map, the second and third maps, every invalid fixture
of the shapes' conformance suite and a few hundred seeded random mutations of the bundled map, for the whole map and
for a change's focus nodes; shapes it does not compile fall back to pySHACL."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pyoxigraph as ox
import pytest
from pyshacl import validate as pyshacl_validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from evidencemap import namespaces as ns
from evidencemap.cli import main
from evidencemap.graph import shacl_sparql
from evidencemap.graph.shacl_sparql import SH, ShaclResult, StoreSource, Unsupported, prebound, results_of
from evidencemap.graph.store import EvidenceMap
from evidencemap.graph.validation import MapSource, map_as_graph, shapes_graph
from evidencemap.settings import Settings

RESOURCES = Path(__file__).parent / "resources"
SHAPES_FIXTURES = RESOURCES / "shapes"
MINIMAL = SHAPES_FIXTURES / "valid" / "minimal-map.ttl"
FIXTURES = [[MINIMAL, p] for p in sorted((SHAPES_FIXTURES / "invalid").glob("*.ttl"))]
FIXTURES.append([MINIMAL, SHAPES_FIXTURES / "valid" / "extracted-finding.ttl"])

Key = tuple[object, ...]


def key(result: ShaclResult) -> Key:
    """A result as compared. Two things differ legitimately between the engines and are normalised: the order of
    GROUP_CONCAT's parts (unspecified in SPARQL) is sorted, and nothing else."""
    messages = tuple(" ".join(sorted(word.strip(".;,") for word in m.split())) for m in result.messages)
    return (result.focus, result.path, result.shape, result.severity, result.component, result.value, messages)


def reference(data: Graph, focus: Sequence[URIRef] | None = None) -> Counter[Key]:
    _, report, _ = pyshacl_validate(data, shacl_graph=shapes_graph(), inference="none", allow_warnings=True,
                                    allow_infos=True, advanced=True, inplace=False,
                                    focus_nodes=list(focus) if focus is not None else None)
    assert isinstance(report, Graph)
    return Counter(map(key, results_of(report)))


def store_of(data: Graph) -> ox.Store:
    store = ox.Store()
    for s, p, o in data:
        subject, predicate = shacl_sparql.to_oxigraph(s), shacl_sparql.to_oxigraph(p)
        assert isinstance(subject, ox.NamedNode | ox.BlankNode) and isinstance(predicate, ox.NamedNode)
        store.add(ox.Quad(subject, predicate, shacl_sparql.to_oxigraph(o)))
    return store


def compiled(data: Graph, focus: Sequence[URIRef] | None = None) -> Counter[Key]:
    report = shacl_sparql.validate(StoreSource(store_of(data)), shapes_graph(),
                                   focus=[ox.NamedNode(str(f)) for f in focus] if focus is not None else None)
    assert report.engine == "sparql", report.reason
    return Counter(map(key, report.results))


def assert_same(data: Graph, focus: Sequence[URIRef] | None = None) -> Counter[Key]:
    ours, theirs = compiled(data, focus), reference(data, focus)
    assert ours == theirs, f"only compiled: {ours - theirs}\nonly pySHACL: {theirs - ours}"
    return ours


@pytest.fixture(scope="module")
def bundled_graph(bundled: EvidenceMap) -> Graph:
    return map_as_graph(bundled)


def test_bundled_map_through_its_gate_gives_no_result_as_pyshacl(bundled: EvidenceMap, bundled_graph: Graph) -> None:
    report = shacl_sparql.validate(MapSource(bundled), shapes_graph())
    assert report.engine == "sparql" and report.results == []
    assert reference(bundled_graph) == Counter()


@pytest.mark.parametrize("files", FIXTURES, ids=[f[-1].stem for f in FIXTURES])
def test_invalid_fixture_gives_pyshacls_results(files: list[Path]) -> None:
    results = assert_same(map_as_graph(EvidenceMap.load(Settings(data=files))))
    if "invalid" in str(files[-1]) and files[-1].stem != "passage-invented-quote":  # quotes are not SHACL's
        assert results, f"{files[-1].name} gives no result"


def test_other_maps_give_pyshacls_results(tmp_path: Path) -> None:
    folder = tmp_path / "school-pa"
    second = RESOURCES / "second-map"
    assert main(["new", str(folder), "--title", "School-based physical activity", "--licence",
                 "https://creativecommons.org/licenses/by/4.0/", "--doi", "10.5555/fixture.school-pa",
                 "--review-text", str(second / "review.txt")]) == 0
    for name in ("review.ttl", "studies.ttl", "findings.ttl", "claims.ttl"):
        with (folder / name).open("a", encoding="utf-8") as written:
            written.write("\n" + (second / name).read_text(encoding="utf-8"))
    (folder / "vocabulary.ttl").write_text((second / "vocabulary.ttl").read_text(encoding="utf-8"), encoding="utf-8")
    for data in ([folder], [RESOURCES / "maps" / "loneliness-2026"]):
        assert_same(map_as_graph(EvidenceMap.load(Settings(data=data))))


# -- seeded random mutations of the bundled map ---------------------------------------------------------------------

UNKNOWN = "https://w3id.org/evidencemap/data/unknown/"
# (xsd:string is written as a plain literal, as N-Triples gives it: rdflib tells the two apart, RDF 1.1 does not)
DATATYPES = [XSD.integer, None, XSD.gYear, XSD.date, RDF.langString]


def mutate(graph: Graph, rng: random.Random, count: int) -> Graph:
    """``graph`` with ``count`` random changes of the kinds an author makes by mistake."""
    triples = sorted(graph, key=lambda t: tuple(str(term) for term in t))
    data = [t for t in triples if str(t[0]).startswith(ns.CANONICAL_BASE)]
    references = [t for t in data if t[1] == URIRef(ns.EVM + "referenceNumber")]
    derivations = [t for t in data if t[1] == URIRef(ns.PROV + "wasDerivedFrom")]
    classes = sorted({t[2] for t in triples if t[1] == RDF.type and isinstance(t[2], URIRef)})
    out = set(triples)
    for _ in range(count):
        s, p, o = rng.choice(data)
        kind = rng.randrange(8)
        if kind == 0:
            out.discard((s, p, o))
        elif kind == 1 and isinstance(o, Literal):
            out.discard((s, p, o))
            datatype = rng.choice(DATATYPES)
            out.add((s, p, Literal(str(o), lang="en") if datatype == RDF.langString else
                     Literal(str(o), datatype=datatype)))
        elif kind == 2:
            out.discard((s, p, o))
            out.add((s, p, URIRef(UNKNOWN + str(rng.randrange(5)))))
        elif kind == 3:
            number = rng.choice(references)[2]
            out.add((rng.choice(references)[0], URIRef(ns.EVM + "referenceNumber"), number))
        elif kind == 4:
            out.discard(rng.choice(derivations))
        elif kind == 5 and isinstance(o, Literal | URIRef):
            out.add((s, p, Literal(f"{o} (copy)") if isinstance(o, Literal) else URIRef(f"{o}-copy")))
        elif kind == 6:
            out.add((s, RDF.type, rng.choice(classes)))
        else:  # (not a blank node as a value: rdflib's STR() accepts one, where SPARQL makes it an error)
            out -= {t for t in out if t[0] == s and t[1] == RDF.type}
    mutated = Graph()
    for triple in out:
        mutated.add(triple)
    return mutated


@pytest.mark.parametrize("seed", range(4))
def test_mutated_bundled_map_gives_pyshacls_results(bundled_graph: Graph, seed: int) -> None:
    results = assert_same(mutate(bundled_graph, random.Random(seed), 60))
    assert sum(results.values()) > 10  # fifty mistakes are seen


@pytest.mark.parametrize("seed", range(1))
def test_a_changes_focus_nodes_give_pyshacls_results(bundled_graph: Graph, seed: int) -> None:
    rng = random.Random(100 + seed)
    mutated = mutate(bundled_graph, rng, 60)
    subjects = sorted({s for s in mutated.subjects() if isinstance(s, URIRef)
                       and str(s).startswith(ns.CANONICAL_BASE)})
    focus = rng.sample(subjects, 120)
    # The reference is pySHACL's whole-map results about these focus nodes: pySHACL's own focus_nodes option also
    # drops the value nodes of sh:or / sh:node from their member shapes (which then conform vacuously).
    theirs = Counter({k: n for k, n in reference(mutated).items() if k[0] in set(focus)})
    ours = compiled(mutated, focus)
    assert ours == theirs, f"only compiled: {ours - theirs}\nonly pySHACL: {theirs - ours}"
    assert sum(ours.values()) > 0


# -- what is not compiled falls back ---------------------------------------------------------------------------------

EXTRA_SHAPE = """
@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix evm: <https://w3id.org/evidencemap/ontology#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<urn:x:ReportTitleEqualsShape> a sh:NodeShape ; sh:targetClass evm:StudyReport ;
  sh:property [ sh:path dcterms:title ; sh:equals evm:authors ; sh:message "A title equal to its authors." ] .
"""


def test_a_component_not_compiled_falls_back_to_pyshacl(bundled_graph: Graph) -> None:
    shapes = Graph()
    for triple in shapes_graph():
        shapes.add(triple)
    shapes.parse(data=EXTRA_SHAPE, format="turtle")
    with pytest.raises(Unsupported, match="equals"):
        shacl_sparql.compile_shapes(shapes)
    report = shacl_sparql.validate(StoreSource(store_of(bundled_graph)), shapes)
    assert report.engine == "pyshacl" and "equals" in report.reason
    _, theirs, _ = pyshacl_validate(bundled_graph, shacl_graph=shapes, inference="none", allow_warnings=True,
                                    allow_infos=True, advanced=True)
    assert isinstance(theirs, Graph)
    expected = Counter(map(key, results_of(theirs)))
    assert Counter(map(key, report.results)) == expected and sum(expected.values()) > 0


# -- pre-binding $this -------------------------------------------------------------------------------------------

SCOPE = "{ SCOPE }"


def test_this_is_joined_where_a_groups_expression_reads_it() -> None:
    text = prebound("SELECT $this ?x WHERE { $this <urn:p> ?y . { ?y <urn:q> ?x FILTER(?x != $this) } UNION "
                    "{ ?y <urn:r> ?x } FILTER NOT EXISTS { $this <urn:s> ?x } }", SCOPE, None)
    assert text.count(SCOPE) == 2  # the top group, and the union's branch whose FILTER reads it
    assert "$this" not in text
    assert text.index(SCOPE) < text.index("<urn:p>")


def test_prebinding_that_a_join_would_not_give_is_refused() -> None:
    for query in ("SELECT $this WHERE { $this <urn:p> ?x MINUS { $this <urn:q> ?x } }",
                  "SELECT $this WHERE { { SELECT ?x WHERE { ?x <urn:p> ?y } } $this <urn:q> ?x }",
                  "SELECT ?x WHERE { ?x <urn:p> $this }"):
        with pytest.raises(Unsupported):
            prebound(query, SCOPE, None)


def test_the_report_graph_says_what_pyshacls_says() -> None:
    data = map_as_graph(EvidenceMap.load(Settings(data=FIXTURES[0])))
    report = shacl_sparql.validate(StoreSource(store_of(data)), shapes_graph())
    graph = report.graph()
    assert (None, RDF.type, SH.ValidationReport) in graph
    assert len(list(graph.objects(None, SH.result))) == len(report.results) > 0
    assert not report.conforms and (None, SH.conforms, Literal(False)) in graph


def test_a_finding_about_neither_a_study_nor_an_intervention_gives_pyshacls_or_result(bundled_graph: Graph) -> None:
    """The ``sh:or`` of class-only members (a finding's subject: a study or an intervention) runs as one anti-join;
    a subject that is a passage, an untyped IRI or a literal is each one sh:or result, as pySHACL reports it."""
    data = Graph()
    for triple in bundled_graph:
        data.add(triple)
    findings = sorted(set(data.subjects(RDF.type, URIRef(ns.EVM + "Finding"))), key=str)[:3]
    passage = next(iter(data.subjects(RDF.type, URIRef(ns.EVM + "Passage"))))
    for finding, subject in zip(findings, (passage, URIRef("https://example.org/nothing"), Literal("a study")),
                                strict=True):
        data.remove((finding, RDF.subject, None))
        data.add((finding, RDF.subject, subject))
    found = assert_same(data)
    ors = [k for k in found if "OrConstraintComponent" in str(k)]
    assert len(ors) == 3, found
