"""The formats the product reads and writes, in one typed registry: RDF serialisations, SPARQL query results and
the other files it exports (pictures, networks, tables).

Each RDF or results format is built from pyoxigraph's own format object (:class:`pyoxigraph.RdfFormat`,
:class:`pyoxigraph.QueryResultsFormat`), which gives its label, media type, file extension and W3C formats IRI;
this module adds what the product needs on top: a short name (``ttl``, ``json``...), the other names and media
types it answers to (``application/x-turtle``, ``text/plain``...) and other file extensions (``.owl``). A family
is looked up by short name, media type or extension:

>>> RDF_FORMATS["ttl"].media_type, RDF_FORMATS.for_media_type("application/x-turtle").name
('text/turtle', 'ttl')
>>> RDF_FORMATS.for_extension(".owl").name, RDF_FORMATS.for_extension("owl").rdf_format
('rdfxml', <RdfFormat RDF/XML>)
>>> RESULT_FORMATS.for_media_type("text/csv; charset=utf-8").iri
'http://www.w3.org/ns/formats/SPARQL_Results_CSV'
>>> RDF_FORMATS.names()
('ttl', 'nt', 'nq', 'trig', 'jsonld', 'rdfxml', 'n3')
>>> FILE_FORMATS["graphml"].media_type, FILE_FORMATS["graphml"].iri is None
('application/graphml+xml', True)
>>> RDF_FORMATS.get("excel") is None
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

import pyoxigraph as ox

W3C_FORMATS = "http://www.w3.org/ns/formats/"


class Family(StrEnum):
    RDF = "rdf"  # RDF serialisations: what the loader reads, the dumps, CONSTRUCT and DESCRIBE results
    RESULTS = "results"  # SPARQL query results: SELECT and ASK
    FILE = "file"  # the other files the product writes (pictures, networks, tables, pages)


@dataclass(frozen=True)
class Format:
    """One format: its short name, label, media type and file extension (without the dot), the other names,
    media types and extensions that mean it, its W3C formats IRI (None for formats that have none), and the
    pyoxigraph object that reads and writes it (RDF and results formats only)."""

    name: str
    family: Family
    label: str
    media_type: str
    extension: str
    iri: str | None = None
    other_names: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()  # other media types a client may ask for it by
    other_extensions: tuple[str, ...] = ()
    rdf_format: ox.RdfFormat | None = None
    results_format: ox.QueryResultsFormat | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.other_names)

    @property
    def media_types(self) -> tuple[str, ...]:
        return (self.media_type, *self.aliases)

    @property
    def extensions(self) -> tuple[str, ...]:
        return (self.extension, *self.other_extensions)

    @property
    def supports_datasets(self) -> bool:
        """Whether it keeps named graphs (N-Quads, TriG, JSON-LD); triple formats merge them."""
        return self.rdf_format is not None and self.rdf_format.supports_datasets


def bare_media_type(media_type: str) -> str:
    """A media type without its parameters, in lower case.

    >>> bare_media_type("Text/CSV; charset=utf-8")
    'text/csv'
    """
    return media_type.split(";", 1)[0].strip().lower()


class Registry:
    """The formats of one family, in the product's order of preference, with lookups (case-insensitive)."""

    def __init__(self, family: Family, formats: Iterable[Format]) -> None:
        self.family = family
        self.formats = tuple(formats)
        self._by_name = _index(self.formats, lambda f: f.names)
        self._by_media_type = _index(self.formats, lambda f: f.media_types)
        self._by_extension = _index(self.formats, lambda f: f.extensions)

    def __iter__(self) -> Iterator[Format]:
        return iter(self.formats)

    def __len__(self) -> int:
        return len(self.formats)

    def __getitem__(self, name: str) -> Format:
        """The format of a short (or other) name; :raises KeyError: for a name it does not have."""
        found = self.get(name)
        if found is None:
            raise KeyError(name)
        return found

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def names(self) -> tuple[str, ...]:
        """The short names, in order (other names left out)."""
        return tuple(f.name for f in self.formats)

    def get(self, name: str) -> Format | None:
        return self._by_name.get(name.strip().lower())

    def for_media_type(self, media_type: str) -> Format | None:
        """The format of a media type or alias (parameters such as ``charset`` are ignored)."""
        return self._by_media_type.get(bare_media_type(media_type))

    def for_extension(self, extension: str) -> Format | None:
        """The format of a file extension, with or without its dot."""
        return self._by_extension.get(extension.strip().lower().removeprefix("."))

    def select(self, *names: str) -> tuple[Format, ...]:
        """Some of the formats, in the order given."""
        return tuple(self[n] for n in names)


def _index(formats: tuple[Format, ...], keys: Callable[[Format], tuple[str, ...]]) -> dict[str, Format]:
    index: dict[str, Format] = {}
    for fmt in formats:
        for key in keys(fmt):
            if key in index:
                raise ValueError(f"{key!r} names both {index[key].name} and {fmt.name}")
            index[key] = fmt
    return index


def _rdf(
    name: str, library: ox.RdfFormat, *, other_names: tuple[str, ...] = (), aliases: tuple[str, ...] = (),
    other_extensions: tuple[str, ...] = (), iri: str | None = None,
) -> Format:
    return Format(name, Family.RDF, library.name, library.media_type, library.file_extension, iri or library.iri,
                  other_names, aliases, other_extensions, rdf_format=library)


def _results(name: str, library: ox.QueryResultsFormat, label: str, *, aliases: tuple[str, ...] = ()) -> Format:
    return Format(name, Family.RESULTS, label, bare_media_type(library.media_type), library.file_extension,
                  library.iri, aliases=aliases, results_format=library)


# pyoxigraph 0.5 names JSON-LD https://www.w3.org/ns/formats/data/JSON-LD; the W3C's registry
# (https://www.w3.org/ns/formats/) and the service descriptions of other endpoints use this IRI.
JSON_LD_IRI = W3C_FORMATS + "JSON-LD"

RDF_FORMATS = Registry(Family.RDF, (
    _rdf("ttl", ox.RdfFormat.TURTLE, other_names=("turtle",), aliases=("application/x-turtle",)),
    _rdf("nt", ox.RdfFormat.N_TRIPLES, other_names=("ntriples",), aliases=("text/plain",)),
    _rdf("nq", ox.RdfFormat.N_QUADS, other_names=("nquads",)),
    _rdf("trig", ox.RdfFormat.TRIG),
    _rdf("jsonld", ox.RdfFormat.JSON_LD, other_names=("json-ld", "json"), aliases=("application/json",),
         other_extensions=("json",), iri=JSON_LD_IRI),
    _rdf("rdfxml", ox.RdfFormat.RDF_XML, other_names=("rdf", "xml"), aliases=("application/xml", "text/xml"),
         other_extensions=("owl", "xml")),
    _rdf("n3", ox.RdfFormat.N3),
))

RESULT_FORMATS = Registry(Family.RESULTS, (
    _results("json", ox.QueryResultsFormat.JSON, "SPARQL results in JSON", aliases=("application/json",)),
    _results("xml", ox.QueryResultsFormat.XML, "SPARQL results in XML", aliases=("application/xml", "text/xml")),
    _results("csv", ox.QueryResultsFormat.CSV, "SPARQL results in CSV"),
    _results("tsv", ox.QueryResultsFormat.TSV, "SPARQL results in TSV"),
))

FILE_FORMATS = Registry(Family.FILE, (
    Format("svg", Family.FILE, "SVG", "image/svg+xml", "svg"),
    Format("png", Family.FILE, "PNG", "image/png", "png"),
    Format("graphml", Family.FILE, "GraphML", "application/graphml+xml", "graphml"),
    Format("gexf", Family.FILE, "GEXF", "application/gexf+xml", "gexf"),
    Format("csv", Family.FILE, "CSV", "text/csv", "csv"),
    Format("json", Family.FILE, "JSON", "application/json", "json"),
    Format("html", Family.FILE, "HTML", "text/html", "html", aliases=("application/xhtml+xml",)),
))
