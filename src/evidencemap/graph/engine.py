"""What the map needs of the store behind it, as a protocol: today the embedded pyoxigraph store, next a remote
SPARQL 1.1 engine.

Everything above the graph layer reads the map through :class:`evidencemap.graph.store.EvidenceMap`, which speaks
to a :class:`QueryEngine` only: SPARQL queries (results read to the end) and the few reads that are not queries
(a pattern of quads, the size, the named graphs). The SPARQL endpoint's worker pool is the one exception: it forks
processes that hold a copy of the embedded store itself (``EvidenceMap.store``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
    """The :class:`QueryEngine` of an in-memory pyoxigraph store."""

    def __init__(self, store: ox.Store) -> None:
        self.store = store

    def query(
        self, text: str, *, union: bool = True, substitutions: Mapping[str, Binding] | None = None
    ) -> QueryResult:
        bound: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] | None = (
            {ox.Variable(name): term for name, term in substitutions.items()} if substitutions else None
        )
        return read_result(self.store.query(text, use_default_graph_as_union=union, substitutions=bound))

    def quads(
        self, subject: Subject | None, predicate: ox.NamedNode | None, obj: Binding | None, graph: GraphName | None
    ) -> list[ox.Quad]:
        return list(self.store.quads_for_pattern(subject, predicate, obj, graph))

    def size(self) -> int:
        return len(self.store)

    def named_graphs(self) -> list[ox.NamedNode | ox.BlankNode]:
        return list(self.store.named_graphs())
