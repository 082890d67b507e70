"""What the map needs of the store behind it, as a protocol: today the embedded pyoxigraph store, next a remote
SPARQL 1.1 engine.

Everything above the graph layer reads the map through :class:`evidencemap.graph.store.EvidenceMap`, which speaks
to a :class:`QueryEngine` only: SPARQL queries (results read to the end) and the few reads that are not queries
(a pattern of quads, the size, the named graphs). The SPARQL endpoint's worker pool is the one exception: it forks
processes that hold a copy of the embedded store itself (``EvidenceMap.store``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, runtime_checkable

import pyoxigraph as ox

from evidencemap.graph.terms import Binding

Subject = ox.NamedNode | ox.BlankNode
GraphName = ox.NamedNode | ox.BlankNode | ox.DefaultGraph


class Solutions(list[ox.QuerySolution]):
    """The solutions of a SELECT query, read to the end, with the query's variables."""

    def __init__(self, variables: list[ox.Variable], rows: Iterable[ox.QuerySolution]) -> None:
        super().__init__(rows)
        self.variables = variables


QueryResult = Solutions | list[ox.Triple] | bool


@runtime_checkable
class QueryEngine(Protocol):
    """A SPARQL 1.1 engine holding the map's named graphs."""

    def query(
        self, text: str, *, union: bool = True, substitutions: Mapping[str, Binding] | None = None
    ) -> QueryResult:
        """Run ``text`` (``union``: the default graph is the union of all graphs) and read its result to the end:
        :class:`Solutions` for SELECT, triples for CONSTRUCT and DESCRIBE, a bool for ASK. ``substitutions`` bind
        variables where the caller could not write a VALUES block (an engine without them raises ValueError).

        :raises SyntaxError: for a query the engine cannot parse.
        """
        ...

    def quads(
        self, subject: Subject | None, predicate: ox.NamedNode | None, obj: Binding | None, graph: GraphName | None
    ) -> list[ox.Quad]:
        """The quads matching a pattern (None matches anything)."""
        ...

    def size(self) -> int:
        """The number of quads."""
        ...

    def named_graphs(self) -> list[ox.NamedNode | ox.BlankNode]:
        ...


@runtime_checkable
class ScopableEngine(QueryEngine, Protocol):
    """An engine that can also answer as if it held only some of its named graphs (one map of several)."""

    def scoped(self, graphs: Sequence[ox.NamedNode]) -> QueryEngine:
        """The same store seen through ``graphs`` only: the default graph of a query (with ``union``) is their
        union, ``GRAPH`` patterns see only them, and :meth:`QueryEngine.quads` reads only them."""
        ...


def read_result(result: ox.QuerySolutions | ox.QueryTriples | ox.QueryBoolean) -> QueryResult:
    """A pyoxigraph query result as plain Python containers, read in the calling thread.

    pyoxigraph's result iterators may not be dropped on another thread, which a web server's thread pool or the
    garbage collector would otherwise do: results are read to the end where they are made.
    """
    if isinstance(result, ox.QuerySolutions):
        return Solutions(list(result.variables), result)
    if isinstance(result, ox.QueryTriples):
        return list(result)
    return bool(result)


class EmbeddedEngine:
    """The :class:`QueryEngine` of an in-memory pyoxigraph store, or of some of its named graphs (``graphs``: see
    :meth:`scoped`)."""

    def __init__(self, store: ox.Store, graphs: Sequence[ox.NamedNode] | None = None) -> None:
        self.store = store
        self.graphs = list(graphs) if graphs is not None else None

    def scoped(self, graphs: Sequence[ox.NamedNode]) -> EmbeddedEngine:
        """The store seen through ``graphs`` only (pyoxigraph's ``default_graph`` and ``named_graphs``: nothing is
        copied)."""
        return EmbeddedEngine(self.store, graphs)

    def query(
        self, text: str, *, union: bool = True, substitutions: Mapping[str, Binding] | None = None
    ) -> QueryResult:
        bound: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] | None = (
            {ox.Variable(name): term for name, term in substitutions.items()} if substitutions else None
        )
        if self.graphs is None:
            return read_result(self.store.query(text, use_default_graph_as_union=union, substitutions=bound))
        # Only the graphs that hold something: each graph of the list is one more lookup per triple pattern (a
        # map's vocabulary or changes graph may be empty, and filled later by a write).
        present = [g for g in self.graphs if self.store.contains_named_graph(g)]
        default: list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] | None = list(present) if union else None
        return read_result(self.store.query(text, default_graph=default, named_graphs=list(present),
                                            substitutions=bound))

    def quads(
        self, subject: Subject | None, predicate: ox.NamedNode | None, obj: Binding | None, graph: GraphName | None
    ) -> list[ox.Quad]:
        if self.graphs is None:
            return list(self.store.quads_for_pattern(subject, predicate, obj, graph))
        graphs = self.graphs if graph is None else [g for g in self.graphs if g == graph]
        return [q for g in graphs for q in self.store.quads_for_pattern(subject, predicate, obj, g)]

    def size(self) -> int:
        if self.graphs is None:
            return len(self.store)
        return sum(1 for g in self.graphs for _ in self.store.quads_for_pattern(None, None, None, g))

    def named_graphs(self) -> list[ox.NamedNode | ox.BlankNode]:
        if self.graphs is None:
            return list(self.store.named_graphs())
        return [g for g in self.graphs if self.store.contains_named_graph(g)]
