"""The loaded evidence map: a pyoxigraph store plus the settings it was built with.

Everything above this layer speaks SPARQL to :meth:`EvidenceMap.query`; nothing imports the web framework here.
Internal queries are written with the canonical IRIs and rebased here when the map is served under another base.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from . import namespaces as ns
from .loading import build_store, expand_paths, rebase
from .resources import bundled_map_dir
from .settings import Settings

Binding = ox.NamedNode | ox.BlankNode | ox.Literal


@dataclass
class EvidenceMap:
    """A validated-on-demand, queryable evidence map."""

    store: ox.Store
    settings: Settings
    sources: list[Path] = field(default_factory=list)
    loaded_at: float = field(default_factory=time.time)
    load_seconds: float = 0.0

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
        """Run an internal SPARQL query; ``bindings`` are substituted for variables (never pasted into the text).

        Results are read to the end here: pyoxigraph's result iterators may not be dropped on another thread, which
        a web server's thread pool or the garbage collector would otherwise do.

        :returns: a bool for ASK, a list of triples for CONSTRUCT/DESCRIBE, :class:`Solutions` for SELECT.
        """
        substitutions = {ox.Variable(k): v for k, v in (bindings or {}).items()}
        return materialise(
            self.store.query(
                rebase(sparql, self.settings.base_iri),
                use_default_graph_as_union=union,
                substitutions=substitutions or None,
            )
        )

    def select(self, sparql: str, bindings: Mapping[str, Binding] | None = None) -> list[dict[str, Any]]:
        """SELECT solutions as dicts of Python values (IRIs as str, literals converted, unbound omitted)."""
        solutions = self.query(sparql, bindings)
        names = [v.value for v in solutions.variables]
        rows = []
        for solution in solutions:
            row = {}
            for name in names:
                term = solution[name]
                if term is not None:
                    row[name] = to_python(term)
            rows.append(row)
        return rows

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


def materialise(result: Any) -> Any:
    """A pyoxigraph query result as plain Python containers, read in the calling thread."""
    if isinstance(result, ox.QuerySolutions):
        return Solutions(list(result.variables), result)
    if isinstance(result, ox.QueryTriples):
        return list(result)
    return bool(result)


def to_python(term: Binding) -> Any:
    """A term as a plain Python value: IRI -> str, typed literal -> int/float/bool/str, blank node -> '_:id'."""
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    datatype = term.datatype.value
    if datatype in {ns.XSD + "integer", ns.XSD + "int", ns.XSD + "long", ns.XSD + "gYear"}:
        try:
            return int(term.value)
        except ValueError:
            return term.value
    if datatype in {ns.XSD + "decimal", ns.XSD + "double", ns.XSD + "float"}:
        return float(term.value)
    if datatype == ns.XSD + "boolean":
        return term.value == "true"
    return term.value
