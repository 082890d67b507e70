"""SPARQL results written out with a row cap: SELECT as JSON, XML, CSV or TSV; ASK as JSON or XML; CONSTRUCT and
DESCRIBE as Turtle, N-Triples, JSON-LD or RDF/XML.

The /sparql workers write SELECT and ASK results with pyoxigraph's own serialisers (:func:`write_engine_solutions`,
:func:`write_engine_boolean`): the engine writes into a sink that counts the rows as the bytes arrive and stops the
serialisation at the row cap, so no solution becomes a Python object (writing a 2,424-row JSON result in Python
took about 115 ms more than the engine's own writer, issue 14). :func:`write_solutions` writes solutions that are
already Python objects (``evidencemap query``). Graph results are collected up to the cap and handed to pyoxigraph's
serialisers. Either way a cut result says so inside itself (:func:`truncation_note`); the caller also turns
``truncated`` into response headers.

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
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import IO, Any, Protocol, cast
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


# -- the engine's own serialisers, with the row cap ---------------------------------------------------------------

ENGINE_FORMATS = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
                  "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}
# A JSON string, also one cut at the end of what has arrived so far (so that nothing inside it is read as structure).
_JSON_STRING = rb'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)'
_CSV_QUOTED = rb'"[^"]*(?:""[^"]*)*(?:"|\Z)'
# What separates two rows: pyoxigraph writes JSON without spaces, each row an object of the bindings array.
_JSON_TOKENS = re.compile(_JSON_STRING + rb"|\},\{")
_CSV_TOKENS = re.compile(_CSV_QUOTED + rb"|\r\n")
# Row boundaries of JSON that no string can hold: after a non-empty row ``}},{"name``; an empty row ``{},{`` may also
# be written inside a string, so a result holding one is counted by the tokens.
_JSON_BOUNDARY = re.compile(rb'\}\},\{"[^,}]')
_JSON_BINDINGS = b'"results":{"bindings":['
_CLOSINGS = {"json": b"]}}", "xml": b"</results></sparql>", "csv": b"", "tsv": b""}
_CANDIDATES = {"json": b"},{", "xml": b"<result>", "csv": b"\r\n", "tsv": b"\n"}


class _Cut(Exception):
    """Raised from the sink to stop the engine's serialisation at the row cap."""


def _row_starts(body: bytes, fmt: str) -> list[int]:
    """Where each row of ``body`` (as much of a result as has arrived) begins, exactly (strings skipped)."""
    if fmt == "xml":  # "<" is always escaped in XML text, so every "<result>" is a row
        return [m.start() for m in re.finditer(rb"<result>", body)]
    if fmt == "tsv":  # pyoxigraph escapes line ends in TSV terms; the first line is the header
        return [m.end() for m in re.finditer(rb"\n", body) if m.end() < len(body)]
    if fmt == "csv":
        ends = [m.end() for m in _CSV_TOKENS.finditer(body) if m.group() == b"\r\n"]
        return [end for end in ends if end < len(body)]
    opening = body.find(_JSON_BINDINGS)
    if opening < 0 or opening + len(_JSON_BINDINGS) >= len(body) or body[opening + len(_JSON_BINDINGS)] != ord("{"):
        return []
    first = opening + len(_JSON_BINDINGS)
    return [first] + [m.start() + 2 for m in _JSON_TOKENS.finditer(body, first) if m.group() == b"},{"]


def _row_count(body: bytes, fmt: str) -> int:
    """The rows of a whole result, cheaply where no string can mislead the count."""
    if fmt == "xml":
        return body.count(b"<result>")
    if fmt == "tsv":
        return max(0, body.count(b"\n") - 1)
    if fmt == "csv":
        return max(0, body.count(b"\r\n") - 1) if b'"' not in body else len(_row_starts(body, fmt))
    if b"{},{" in body:
        return len(_row_starts(body, fmt))
    opening = body.find(_JSON_BINDINGS)
    if opening < 0 or body[opening + len(_JSON_BINDINGS):opening + len(_JSON_BINDINGS) + 1] != b"{":
        return 0
    return 1 + len(_JSON_BOUNDARY.findall(body, opening))


class _RowSink:
    """Where pyoxigraph writes a result: keeps the bytes, and stops the engine once a row beyond ``max_rows`` starts.

    Each chunk is only counted (C-speed ``bytes.count``) for what could begin a row, an upper bound; the exact count,
    which skips strings, runs only when that bound reaches the cap, and again only when the bound has grown by the
    rows still missing.
    """

    def __init__(self, fmt: str, max_rows: int) -> None:
        self.fmt = fmt
        self.max_rows = max_rows
        self.parts: list[bytes] = []
        self.candidates = 1 if fmt == "json" else 0  # a first JSON row has no separator before it
        self.check_at = max_rows + 1
        self.truncated = False
        self._tail = b""
        self._pattern = _CANDIDATES[fmt]

    def write(self, chunk: bytes) -> int:
        data = bytes(chunk)
        if self.truncated:  # the engine's buffer, written again as it is dropped after the cut: not kept
            return len(data)
        self.parts.append(data)
        joined = self._tail + data
        self.candidates += joined.count(self._pattern) - self._tail.count(self._pattern)
        self._tail = joined[-(len(self._pattern) - 1):] if len(self._pattern) > 1 else b""
        if self.candidates >= self.check_at:
            body = b"".join(self.parts)
            self.parts = [body]
            starts = _row_starts(body, self.fmt)
            if len(starts) > self.max_rows:
                self.parts = [body[:starts[self.max_rows]]]
                if self.fmt == "json":  # the comma before the row that is cut off
                    self.parts = [self.parts[0].rstrip(b"{").rstrip(b",")]
                self.truncated = True
                raise _Cut
            self.check_at = self.candidates + (self.max_rows + 1 - len(starts))
        return len(data)

    def flush(self) -> None:
        return None


def write_engine_solutions(solutions: ox.QuerySolutions, serialiser: str, max_rows: int) -> Written:
    """SELECT solutions written by pyoxigraph in JSON, XML, CSV or TSV, at most ``max_rows`` of them.

    >>> store = ox.Store()
    >>> for i in range(3):
    ...     store.add(ox.Quad(ox.NamedNode(f"http://example.org/s{i}"), ox.NamedNode("http://example.org/p"),
    ...                       ox.Literal("a},{b")))
    >>> written = write_engine_solutions(store.query("SELECT ?s ?o { ?s ?p ?o }"), "json", max_rows=2)
    >>> len(json.loads(written.body)["results"]["bindings"]), written.rows, written.truncated
    (2, 2, True)
    """
    name = RESULT_FORMATS[serialiser].name
    sink = _RowSink(name, max_rows)
    try:
        solutions.serialize(cast(IO[bytes], sink), format=ENGINE_FORMATS[name])  # it needs write and flush
    except _Cut:
        body = b"".join(sink.parts) + _CLOSINGS[name]
        return Written(_say_truncated(body.decode("utf-8"), name, max_rows).encode("utf-8"), max_rows, True)
    body = b"".join(sink.parts)
    return Written(body, _row_count(body, name), False)


def write_engine_boolean(result: ox.QueryBoolean, serialiser: str) -> Written:
    """An ASK result written by pyoxigraph (JSON or XML)."""
    name = RESULT_FORMATS[serialiser].name
    return Written(result.serialize(format=ENGINE_FORMATS[name]) or b"", 1, False)


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
