"""The loaded evidence map: a pyoxigraph store plus the settings it was built with.

Everything above this layer speaks SPARQL to :meth:`EvidenceMap.query`; nothing imports the web framework here.
Internal queries are written with the canonical IRIs and rebased here when the map is served under another base.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.graph.loading import build_store, expand_paths, rebase
from evidencemap.resources import bundled_map_dir
from evidencemap.settings import Settings

Binding = ox.NamedNode | ox.BlankNode | ox.Literal


@dataclass
class EvidenceMap:
    """A validated-on-demand, queryable evidence map."""

    store: ox.Store
    settings: Settings
    sources: list[Path] = field(default_factory=list)
    loaded_at: float = field(default_factory=time.time)
    load_seconds: float = 0.0
    # Structures computed from the store and kept with it (the facet index): whatever changes the store drops them.
    derived: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def load(cls, settings: Settings | None = None) -> EvidenceMap:
        """Build the map named by ``settings.data`` (the bundled map when empty).

        :raises DataError: when a file is missing or not valid RDF.
        """
        settings = settings or Settings()
        started = time.perf_counter()
        sources = expand_paths(settings.data or [bundled_map_dir()])
        store = build_store(sources, base_iri=settings.base_iri)
        return cls(store=store, settings=settings, sources=sources, load_seconds=time.perf_counter() - started)

    # -- IRIs ---------------------------------------------------------------------------------------------------

    def iri(self, canonical: str) -> str:
        """An IRI written under the canonical base, as it is in this map."""
        return rebase(canonical, self.settings.base_iri)

    def canonical(self, iri: str) -> str:
        """The canonical form of an IRI of this map (inverse of :meth:`iri`)."""
        base = self.settings.base_iri
        return ns.CANONICAL_BASE + iri[len(base):] if iri.startswith(base) else iri

    # -- queries ------------------------------------------------------------------------------------------------

    def query(self, sparql: str, bindings: Mapping[str, Binding] | None = None, *, union: bool = True) -> Any:
        """Run an internal SPARQL query with ``bindings`` for some of its variables (never user text).

        The bound terms go into a VALUES block opening the query's WHERE group, serialised by pyoxigraph, because
        its planner then starts from them: pyoxigraph's ``substitutions`` are opaque to the planner and made
        "online studies that reported burnout" 1.7x slower at 10,000 studies (docs/benchmarks.md). Queries where a
        VALUES block does not fit (no WHERE keyword, a blank node value, a BIND to the variable) fall back to
        ``substitutions``; both give the same solutions.

        Results are read to the end here: pyoxigraph's result iterators may not be dropped on another thread, which
        a web server's thread pool or the garbage collector would otherwise do.

        :returns: a bool for ASK, a list of triples for CONSTRUCT/DESCRIBE, :class:`Solutions` for SELECT.
        """
        text = rebase(sparql, self.settings.base_iri)
        if bindings:
            bound = with_values(text, bindings)
            if bound is not None:
                try:
                    result = self.store.query(bound, use_default_graph_as_union=union)
                except SyntaxError:
                    pass  # the original text below then reports its own error, or runs with substitutions
                else:
                    return materialise(result)
        substitutions = {ox.Variable(k): v for k, v in (bindings or {}).items()}
        return materialise(
            self.store.query(text, use_default_graph_as_union=union, substitutions=substitutions or None)
        )

    def select(self, sparql: str, bindings: Mapping[str, Binding] | None = None) -> list[dict[str, Any]]:
        """SELECT solutions as dicts of Python values (IRIs as str, literals converted, unbound omitted)."""
        solutions = self.query(sparql, bindings)
        names = [v.value for v in solutions.variables]
        # A solution iterates over its values in the order of the variables (None when unbound).
        return [
            {name: to_python(term) for name, term in zip(names, solution, strict=True) if term is not None}
            for solution in solutions
        ]

    def triple_count(self, graph: str | None = None) -> int:
        """Triples in one named graph (canonical IRI) or in the whole store."""
        if graph is None:
            return len(self.store)
        return sum(1 for _ in self.store.quads_for_pattern(None, None, None, ox.NamedNode(self.iri(graph))))

    def named_graphs(self) -> Iterator[str]:
        for g in self.store.named_graphs():
            if isinstance(g, ox.NamedNode):
                yield g.value


class Solutions(list[ox.QuerySolution]):
    """The solutions of a SELECT query, read to the end, with the query's variables."""

    def __init__(self, variables: list[ox.Variable], rows: Iterable[ox.QuerySolution]) -> None:
        super().__init__(rows)
        self.variables = variables


# What a SPARQL parser skips when looking for the WHERE keyword: strings, IRIs and comments.
_SKIPPED = re.compile(
    r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
    r"|<[^<>\"{}|^`\\\x00-\x20]*>|#[^\n]*"
)
_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)


def with_values(text: str, bindings: Mapping[str, Binding]) -> str | None:
    """``text`` with ``bindings`` as a VALUES block opening its (outermost) WHERE group, or None when there is no
    WHERE keyword or a value cannot be written in VALUES (a blank node)."""
    if not all(isinstance(term, ox.NamedNode | ox.Literal) for term in bindings.values()):
        return None
    masked = _SKIPPED.sub(lambda m: " " * len(m.group(0)), text)
    match = _WHERE.search(masked)
    if match is None:
        return None
    names = " ".join(f"?{name}" for name in bindings)
    terms = " ".join(str(term) for term in bindings.values())
    return f"{text[:match.end()]} VALUES ({names}) {{ ({terms}) }}{text[match.end():]}"


def materialise(result: Any) -> Any:
    """A pyoxigraph query result as plain Python containers, read in the calling thread."""
    if isinstance(result, ox.QuerySolutions):
        return Solutions(list(result.variables), result)
    if isinstance(result, ox.QueryTriples):
        return list(result)
    return bool(result)


_INTEGER_TYPES = frozenset(ns.XSD + t for t in ("integer", "int", "long", "gYear"))
_FLOAT_TYPES = frozenset(ns.XSD + t for t in ("decimal", "double", "float"))
_BOOLEAN_TYPE = ns.XSD + "boolean"


def to_python(term: Binding) -> Any:
    """A term as a plain Python value: IRI -> str, typed literal -> int/float/bool/str, blank node -> '_:id'."""
    # Called for every value of every row: the datatype sets are built once, above, not on each call.
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    datatype = term.datatype.value
    if datatype in _INTEGER_TYPES:
        try:
            return int(term.value)
        except ValueError:
            return term.value
    if datatype in _FLOAT_TYPES:
        return float(term.value)
    if datatype == _BOOLEAN_TYPE:
        return term.value == "true"
    return term.value
