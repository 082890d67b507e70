"""The formats registry: every format found again by its names, media types and extensions, in agreement with
pyoxigraph's own format objects, and pyoxigraph reads what each RDF and results format names."""

from __future__ import annotations

import csv
import doctest
import io

import pyoxigraph as ox
import pytest

from evidencemap.graph import formats
from evidencemap.graph.formats import FILE_FORMATS, RDF_FORMATS, RESULT_FORMATS, Family, Format, Registry
from evidencemap.publish import exports
from evidencemap.sparql import results
from evidencemap.web import negotiation

REGISTRIES = (RDF_FORMATS, RESULT_FORMATS, FILE_FORMATS)
EVERY_FORMAT = [f for registry in REGISTRIES for f in registry]
EX = "http://example.org/"


def _id(fmt: Format) -> str:
    return f"{fmt.family}-{fmt.name}"


@pytest.mark.parametrize("module", [formats, results, negotiation])
def test_doctests_pass(module: object) -> None:
    outcome = doctest.testmod(module)  # type: ignore[arg-type]
    assert outcome.attempted > 0 and outcome.failed == 0


@pytest.mark.parametrize("fmt", EVERY_FORMAT, ids=_id)
def test_every_format_round_trips_through_its_names_media_types_and_extensions(fmt: Format) -> None:
    registry = next(r for r in REGISTRIES if r.family == fmt.family)
    assert all(registry[name] is fmt for name in fmt.names)
    assert registry[fmt.name.upper()] is fmt
    assert all(registry.for_media_type(media) is fmt for media in fmt.media_types)
    assert registry.for_media_type(f"{fmt.media_type.upper()}; charset=utf-8") is fmt
    assert all(registry.for_extension(ext) is fmt and registry.for_extension(f".{ext}") is fmt
               for ext in fmt.extensions)


@pytest.mark.parametrize("fmt", list(RDF_FORMATS), ids=_id)
def test_rdf_formats_agree_with_pyoxigraph(fmt: Format) -> None:
    library = fmt.rdf_format
    assert library is not None
    assert (fmt.label, fmt.media_type, fmt.extension) == (library.name, library.media_type, library.file_extension)
    assert fmt.supports_datasets == library.supports_datasets
    for media in fmt.media_types:
        assert ox.RdfFormat.from_media_type(media) == library
    for ext in fmt.extensions:
        assert ox.RdfFormat.from_extension(ext) in {library, None}  # pyoxigraph does not know .owl


@pytest.mark.parametrize("fmt", list(RDF_FORMATS), ids=_id)
def test_pyoxigraph_reads_what_each_rdf_format_names(fmt: Format) -> None:
    quad = ox.Quad(ox.NamedNode(EX + "s"), ox.NamedNode(EX + "p"), ox.Literal("o"),
                   ox.NamedNode(EX + "g") if fmt.supports_datasets else ox.DefaultGraph())
    assert fmt.rdf_format is not None
    written = ox.serialize([quad] if fmt.supports_datasets else [quad.triple], format=fmt.rdf_format)
    assert written
    read = ox.RdfFormat.from_media_type(fmt.media_type)
    assert read is not None and list(ox.parse(written, format=read)) == [quad]


@pytest.mark.parametrize("fmt", list(RESULT_FORMATS), ids=_id)
def test_results_formats_agree_with_pyoxigraph_and_parse_back(fmt: Format) -> None:
    library = fmt.results_format
    assert library is not None
    assert fmt.media_type == formats.bare_media_type(library.media_type) and fmt.iri == library.iri
    assert all(ox.QueryResultsFormat.from_media_type(m) == library for m in fmt.media_types)
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode(EX + "s"), ox.NamedNode(EX + "p"), ox.Literal("o")))
    written = results.write_solutions(store.query("SELECT ?s ?o { ?s ?p ?o }"), fmt.name, max_rows=10)
    if fmt.name == "csv":  # lossy (no term types), so pyoxigraph does not read it
        assert list(csv.reader(io.StringIO(written.body.decode()))) == [["s", "o"], [EX + "s", "o"]]
        return
    parsed = ox.parse_query_results(written.body, format=library)
    assert isinstance(parsed, ox.QuerySolutions)
    assert [[t.value for t in s] for s in parsed] == [[EX + "s", "o"]]


def test_w3c_format_iris_of_the_service_description() -> None:
    offered = {f.iri for kind in ("tabular", "graph") for f in results.WRITABLE[kind]}
    assert offered == {formats.W3C_FORMATS + n for n in (
        "SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
        "Turtle", "N-Triples", "JSON-LD", "RDF_XML")}


def test_unknown_names_media_types_and_extensions_are_none() -> None:
    assert RDF_FORMATS.get("excel") is None and "excel" not in RDF_FORMATS
    assert RESULT_FORMATS.for_media_type("image/png") is None and FILE_FORMATS.for_extension(".docx") is None
    with pytest.raises(KeyError):
        FILE_FORMATS["ttl"]


def test_a_name_may_mean_one_format_per_family() -> None:
    clash = Format("ttl", Family.RDF, "Other", "text/other", "other")
    with pytest.raises(ValueError, match="'ttl' names both"):
        Registry(Family.RDF, (*RDF_FORMATS, clash))


def test_exports_are_named_by_the_registry() -> None:
    assert set(exports.EXPORT_NAMES) >= {"ttl", "nt", "nq", "trig", "jsonld", "rdfxml", "prisma-svg", "graphml"}
    assert all(f in RDF_FORMATS for f in exports.EXPORT_NAMES if f not in exports.VIEW_EXPORTS)


def test_every_sparql_format_choice_of_the_editor_is_accepted() -> None:
    from evidencemap.web.sparql_editor import FORMAT_CHOICES

    for value, _ in FORMAT_CHOICES:
        assert negotiation.negotiate(None, value)
