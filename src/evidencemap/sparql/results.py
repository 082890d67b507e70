"""SPARQL results written out with a row cap: SELECT as JSON, XML, CSV or TSV; ASK as JSON or XML; CONSTRUCT and
DESCRIBE as Turtle, N-Triples, JSON-LD or RDF/XML.

pyoxigraph serialises only a whole result, so solutions are written here to be able to stop at the cap and say so
(the caller turns ``truncated`` into response headers). Graph results are collected up to the cap and handed to
pyoxigraph's serialisers.

>>> store = ox.Store()
>>> store.add(ox.Quad(ox.NamedNode("http://example.org/a"), ox.NamedNode("http://example.org/p"), ox.Literal("1")))
>>> written = write_solutions(store.query("SELECT ?s ?o { ?s ?p ?o }"), "csv", max_rows=10)
>>> written.body, written.rows, written.truncated
(b's,o\\r\\nhttp://example.org/a,1\\r\\n', 1, False)
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any, Protocol
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from evidencemap.graph.formats import RDF_FORMATS, RESULT_FORMATS, Format

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
RESULTS_NS = "http://www.w3.org/2005/sparql-results#"

# The formats each kind of result can be written in, in the order the server prefers them. A kind's serialiser is
# the short (or another) name of a format of its family: RESULT_FORMATS for tabular and boolean, RDF_FORMATS for graph.
WRITABLE: dict[str, tuple[Format, ...]] = {
    "tabular": RESULT_FORMATS.select("json", "xml", "csv", "tsv"),
    "boolean": RESULT_FORMATS.select("json", "xml"),
    "graph": RDF_FORMATS.select("ttl", "nt", "jsonld", "rdfxml"),
}


def writable_format(kind: str, serialiser: str) -> Format | None:
    """The format a kind of result (``tabular``, ``boolean``, ``graph``) is written in for a serialiser name; None
    when that kind cannot be written in it.

    >>> writable_format("graph", "turtle").media_type, writable_format("boolean", "csv")
    ('text/turtle', None)
    """
    family = RDF_FORMATS if kind == "graph" else RESULT_FORMATS
    fmt = family.get(serialiser)
    return fmt if fmt in WRITABLE[kind] else None


Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


@dataclass(frozen=True)
class Written:
    """A serialised result: its bytes, how many rows (solutions or triples) it holds, and whether it was cut."""

    body: bytes
    rows: int
    truncated: bool


def _capped(items: Iterable[Any], max_rows: int) -> tuple[list[Any], bool]:
    taken = list(islice(items, max_rows + 1))
    return taken[:max_rows], len(taken) > max_rows


class SolutionRows(Protocol):
    """SELECT solutions with their variables: pyoxigraph's :class:`~pyoxigraph.QuerySolutions` as the engine returns
    them, or :class:`evidencemap.graph.store.Solutions` as :meth:`EvidenceMap.query` does."""

    @property
    def variables(self) -> list[ox.Variable]: ...

    def __iter__(self) -> Iterator[ox.QuerySolution]: ...


def write_solutions(solutions: SolutionRows, serialiser: str, max_rows: int) -> Written:
    """SELECT solutions, at most ``max_rows`` of them."""
    names = [v.value for v in solutions.variables]
    rows, truncated = _capped((list(solution) for solution in solutions), max_rows)
    writers = {"json": _json_rows, "xml": _xml_rows, "csv": _csv_rows, "tsv": _tsv_rows}
    name = RESULT_FORMATS[serialiser].name
    body = "".join(writers[name](names, rows))
    if truncated:
        body = _say_truncated(body, name, max_rows)
    return Written(body.encode("utf-8"), len(rows), truncated)


def truncation_note(max_rows: int) -> str:
    return (f"Result cut at the row limit: only the first {max_rows:,} rows are returned; "
            "add LIMIT/OFFSET to page through the rest.")


def _say_truncated(body: str, fmt: str, max_rows: int) -> str:
    """The result with the cut stated inside it, where a reader or a program sees it (docs/sparql.md): members of
    the JSON object, an XML comment, a last ``#`` line in CSV, TSV, Turtle and N-Triples (a comment there)."""
    note = truncation_note(max_rows)
    if fmt == "json":
        return body.rstrip()[:-1] + f', "truncated": true, "rowLimit": {max_rows}, "note": {json.dumps(note)}}}\n'
    if fmt in {"xml", "rdfxml"}:
        return body + f"<!-- {note} -->\n"
    if fmt in {"csv", "tsv", "ttl", "nt"}:
        return body + f"# {note}\n"
    return body


def write_boolean(value: bool, serialiser: str) -> Written:
    """An ASK result."""
    if RESULT_FORMATS[serialiser].name == "json":
        body = json.dumps({"head": {}, "boolean": value})
    else:
        body = (
            f'<?xml version="1.0"?>\n<sparql xmlns="{RESULTS_NS}"><head/>'
            f"<boolean>{'true' if value else 'false'}</boolean></sparql>\n"
        )
    return Written(body.encode("utf-8"), 1, False)


def write_triples(
    triples: Iterable[ox.Triple], serialiser: str, max_rows: int, prefixes: Mapping[str, str] | None = None
) -> Written:
    """CONSTRUCT or DESCRIBE triples, at most ``max_rows`` of them (``prefixes`` shorten Turtle and RDF/XML)."""
    kept, truncated = _capped(triples, max_rows)
    fmt = RDF_FORMATS[serialiser]
    assert fmt.rdf_format is not None  # every format of the RDF family has one
    usable = dict(prefixes or {}) if uses_prefixes(fmt) else {}
    body = ox.serialize(kept, format=fmt.rdf_format, prefixes=usable or None) or b""
    if truncated:
        body = _say_truncated(body.decode("utf-8"), fmt.name, max_rows).encode("utf-8")
    return Written(body, len(kept), truncated)


def uses_prefixes(fmt: Format) -> bool:
    """Whether prefixes shorten what ``fmt`` writes (Turtle and RDF/XML; pyoxigraph ignores them elsewhere)."""
    return fmt.name in {"ttl", "rdfxml"}


# -- SPARQL 1.1 Query Results JSON ---------------------------------------------------------------------------------


def json_term(term: Term) -> dict[str, Any]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Triple):
        parts = {"subject": term.subject, "predicate": term.predicate, "object": term.object}
        return {"type": "triple", "value": {k: json_term(v) for k, v in parts.items()}}
    out: dict[str, Any] = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype.value != XSD_STRING:
        out["datatype"] = term.datatype.value
    return out


class _Memo(dict[Term, str]):
    """Each distinct term written once (results repeat the same concepts and IRIs on many rows)."""

    def __init__(self, write: Callable[[Term], str]) -> None:
        super().__init__()
        self.write = write

    def __missing__(self, term: Term) -> str:
        text = self[term] = self.write(term)
        return text


def _json_rows(names: list[str], rows: list[list[Term | None]]) -> Iterator[str]:
    yield json.dumps({"head": {"vars": names}})[:-1] + ', "results": {"bindings": ['
    keys = [json.dumps(n) + ":" for n in names]
    memo = _Memo(lambda term: json.dumps(json_term(term), ensure_ascii=False))
    for i, row in enumerate(rows):
        cells = ",".join(key + memo[t] for key, t in zip(keys, row, strict=True) if t is not None)
        yield ("{" if i == 0 else ",{") + cells + "}"
    yield "]}}\n"


# -- SPARQL Query Results XML --------------------------------------------------------------------------------------


def _xml_term(term: Term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Triple):
        return (
            f"<triple><subject>{_xml_term(term.subject)}</subject><predicate>{_xml_term(term.predicate)}</predicate>"
            f"<object>{_xml_term(term.object)}</object></triple>"
        )
    if term.language:
        return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
    if term.datatype.value != XSD_STRING:
        return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
    return f"<literal>{escape(term.value)}</literal>"


def _xml_rows(names: list[str], rows: list[list[Term | None]]) -> Iterator[str]:
    yield f'<?xml version="1.0"?>\n<sparql xmlns="{RESULTS_NS}">\n<head>'
    yield "".join(f"<variable name={quoteattr(n)}/>" for n in names)
    yield "</head>\n<results>\n"
    openings = [f"<binding name={quoteattr(n)}>" for n in names]
    memo = _Memo(_xml_term)
    for row in rows:
        cells = "".join(f"{opening}{memo[t]}</binding>" for opening, t in zip(openings, row, strict=True)
                        if t is not None)
        yield f"<result>{cells}</result>\n"
    yield "</results>\n</sparql>\n"


# -- SPARQL 1.1 Query Results CSV and TSV --------------------------------------------------------------------------


def _csv_value(term: Term | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Triple):
        return str(term)
    return term.value


def _csv_rows(names: list[str], rows: list[list[Term | None]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow([_csv_value(t) for t in row])
    yield buffer.getvalue()


def _tsv_rows(names: list[str], rows: list[list[Term | None]]) -> Iterator[str]:
    yield "\t".join(f"?{n}" for n in names) + "\n"
    for row in rows:
        yield "\t".join("" if t is None else str(t) for t in row) + "\n"
