"""Terms bound into a query as a VALUES block, serialised by pyoxigraph: the one way values reach a query's text.

No text a user typed is ever pasted into SPARQL: a value is first resolved to a term of the map (a concept, a study,
a validated literal), and the term is written by pyoxigraph. A VALUES block is standard SPARQL 1.1, so a query
bound this way runs on any engine, and pyoxigraph's planner starts from it (its ``substitutions`` are opaque to the
planner: "online studies that reported burnout" was 1.7x slower with them at 10,000 studies, docs/benchmarks.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from evidencemap.graph.terms import Binding


@dataclass(frozen=True)
class Values:
    """A table of terms for some variables: one row (a query's parameters) or many (a batch of IRIs).

    >>> study = ox.NamedNode("https://w3id.org/evidencemap/data/dufour-2025/study/blay-2025")
    >>> Values.row({"study": study}).block()
    'VALUES (?study) { (<https://w3id.org/evidencemap/data/dufour-2025/study/blay-2025>) }'
    >>> Values.column("year", [ox.Literal("2021"), ox.Literal("2022")]).block()
    'VALUES (?year) { ("2021") ("2022") }'
    """

    variables: tuple[str, ...]
    rows: tuple[tuple[Binding, ...], ...]

    @classmethod
    def row(cls, bindings: Mapping[str, Binding]) -> Values:
        return cls(tuple(bindings), (tuple(bindings.values()),))

    @classmethod
    def column(cls, variable: str, terms: Iterable[Binding]) -> Values:
        return cls((variable,), tuple((term,) for term in terms))

    @property
    def writable(self) -> bool:
        """Whether every term can stand in a VALUES block (a blank node cannot)."""
        return all(isinstance(term, ox.NamedNode | ox.Literal) for row in self.rows for term in row)

    def block(self) -> str:
        names = " ".join(f"?{name}" for name in self.variables)
        rows = " ".join("(" + " ".join(str(term) for term in row) + ")" for row in self.rows)
        return f"VALUES ({names}) {{ {rows} }}"


def values_block(variable: str, terms: Sequence[Binding]) -> str:
    """``VALUES ?variable { term ... }``: one variable bound to any of ``terms`` (the form a filter uses).

    >>> values_block("f0", [ox.NamedNode("https://w3id.org/evidencemap/concept/delivery/online")])
    'VALUES ?f0 { <https://w3id.org/evidencemap/concept/delivery/online> }'
    """
    return f"VALUES ?{variable} {{ {' '.join(str(term) for term in terms)} }}"


# What a SPARQL parser skips when looking for the WHERE keyword: strings, IRIs and comments.
_SKIPPED = re.compile(
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
    r"|<[^<>\"{}|^`\\\x00-\x20]*>|#[^\n]*"
)
_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


def with_values(text: str, values: Values | Mapping[str, Binding]) -> str | None:
    """``text`` with ``values`` as a VALUES block opening its (outermost) WHERE group, or None when there is no
    WHERE keyword or a value cannot be written in VALUES (a blank node).

    >>> online = ox.NamedNode("https://w3id.org/evidencemap/concept/delivery/online")
    >>> with_values("SELECT ?s WHERE { ?s ?p ?c }", {"c": online})
    'SELECT ?s WHERE { VALUES (?c) { (<https://w3id.org/evidencemap/concept/delivery/online>) } ?s ?p ?c }'
    >>> with_values('ASK { ?s ?p "WHERE {" }', {"c": online}) is None
    True
    """
    table = values if isinstance(values, Values) else Values.row(values)
    if not table.writable:
        return None
    masked = _SKIPPED.sub(lambda m: " " * len(m.group(0)), text)
    match = _WHERE.search(masked)
    if match is None:
        return None
    return f"{text[:match.end()]} {table.block()}{text[match.end():]}"
