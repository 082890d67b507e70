"""One /sparql query, start to finish, inside a worker process: guard, execute on the store, serialise with the cap.

Requests and outcomes are plain picklable data, because they cross a process boundary; errors travel as
:class:`QueryFailure` and are raised again in the server as the same :mod:`evidencemap.errors` class.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import pyoxigraph as ox

from evidencemap import errors
from evidencemap.graph.formats import Format
from evidencemap.sparql.guard import SparqlSyntaxError, explain_rejection, inspect_query
from evidencemap.sparql.results import (
    WRITABLE,
    Written,
    writable_format,
    write_engine_boolean,
    write_engine_solutions,
    write_triples,
)

log = logging.getLogger("evidencemap.sparql")

# Marks a failure as the worker running out of its memory limit; the pool turns it into a 503 naming the limit.
OUT_OF_MEMORY = "out of memory"

FORM_KINDS = {"SELECT": "tabular", "ASK": "boolean", "CONSTRUCT": "graph", "DESCRIBE": "graph"}


@dataclass(frozen=True)
class QueryRequest:
    """A query as the protocol layer understood it.

    ``serialisers`` maps each kind of result (``tabular``, ``boolean``, ``graph``) to the name of the format (in
    :mod:`evidencemap.graph.formats`) the client's ``Accept`` (or ``format``) chose for it; a kind that is missing
    is one the client cannot accept (406). Names, not format objects, because they cross a process boundary.
    ``default_graphs`` / ``named_graphs`` are the protocol's ``default-graph-uri`` / ``named-graph-uri``
    (None when the request names no dataset). ``base_iri`` resolves relative IRIs in the query.
    """

    text: str
    serialisers: Mapping[str, str]
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    union_default_graph: bool = True
    max_rows: int = 10_000
    base_iri: str | None = None
    prefixes: Mapping[str, str] = field(default_factory=dict)
    accept: str = ""


@dataclass(frozen=True)
class QueryOutcome:
    form: str
    serialiser: str  # the short name of the format ``body`` is written in
    body: bytes
    rows: int
    truncated: bool
    seconds: float
    private_bytes: int = 0  # memory the worker holds for itself after the query (0 when not measurable)

    @property
    def media_type(self) -> str:
        fmt = writable_format(FORM_KINDS[self.form], self.serialiser)
        assert fmt is not None  # run_query writes only in a writable format
        return fmt.media_type


@dataclass(frozen=True)
class QueryFailure:
    """An error raised while running a query, as data."""

    error: str
    message: str
    hint: str | None = None
    line: int = 0
    column: int = 0
    excerpt: str = ""
    allowed: tuple[str, ...] = ()

    @classmethod
    def of(cls, exc: errors.EvidenceMapError) -> QueryFailure:
        if isinstance(exc, SparqlSyntaxError):
            return cls("SparqlSyntaxError", exc.message, exc.hint, exc.line, exc.column, exc.excerpt)
        return cls(type(exc).__name__, exc.message, exc.hint, allowed=exc.allowed)

    def exception(self) -> errors.EvidenceMapError:
        if self.error == "SparqlSyntaxError":
            return SparqlSyntaxError(self.message, line=self.line, column=self.column, excerpt=self.excerpt)
        kind = getattr(errors, self.error, None)
        if not (isinstance(kind, type) and issubclass(kind, errors.EvidenceMapError)):
            kind = QueryFailed
        return kind(self.message, hint=self.hint, allowed=self.allowed)


class QueryFailed(errors.EvidenceMapError):
    """The engine failed on a query it had accepted, or the worker running it died (500)."""

    status = 500


def result_format(form: str, request: QueryRequest) -> Format:
    """The format a query of ``form`` answers in, from what the request accepts (the embedded store and a remote
    engine negotiate alike).

    :raises NotAcceptable: when the client accepts no format this query's results can be written in.
    """
    kind = FORM_KINDS[form]
    wanted = request.serialisers.get(kind)
    fmt = None if wanted is None else writable_format(kind, wanted)
    if fmt is None:
        offered = [f.media_type for f in WRITABLE[kind]]
        raise errors.NotAcceptable(
            f"A {form} query's results cannot be sent as any type the request accepts "
            f"({request.accept or 'no Accept header'}).",
            hint=f"Use one of: {', '.join(offered)}.", allowed=offered,
        )
    return fmt


def run_query(store: ox.Store, request: QueryRequest) -> QueryOutcome:
    """Guard, run and serialise one query.

    :raises QueryRefused: for updates, ``LOAD`` and ``SERVICE`` (nothing is executed).
    :raises BadRequest: for syntax errors, with line and column.
    :raises NotAcceptable: when the client accepts no format this query's results can be written in.
    """
    started = time.perf_counter()
    inspected = inspect_query(request.text)
    fmt = result_format(inspected.form, request)
    checked = dataclasses.replace(request, text=inspected.text or request.text)  # what the guard read is what runs
    try:
        result = _execute(store, checked, inspected.has_dataset)
        try:
            written = _write(result, fmt.name, request, {**request.prefixes, **inspected.prefixes})
        finally:
            # Parsing the query above (rdflib's pyparsing grammar) leaves exceptions in reference cycles that keep
            # this frame alive, locals included, until a garbage collection, which may run on another thread; and
            # pyoxigraph's result iterators must be dropped on the thread that made them.
            del result
    except SyntaxError as exc:
        raise explain_rejection(str(exc), checked.text) from None
    return QueryOutcome(inspected.form, fmt.name, written.body, written.rows, written.truncated,
                        time.perf_counter() - started)


def run_query_safely(store: ox.Store, request: QueryRequest) -> QueryOutcome | QueryFailure:
    """:func:`run_query`, with every error turned into a :class:`QueryFailure` (unexpected ones logged)."""
    try:
        return run_query(store, request)
    except errors.EvidenceMapError as exc:
        return QueryFailure.of(exc)
    except MemoryError:
        return QueryFailure("QueryFailed", OUT_OF_MEMORY)
    except Exception as exc:
        # The engine's own words stay in the log: they can hold what another server answered (issue 9).
        log.error("query failed in the engine: %s: %.300s", type(exc).__name__, exc)
        return QueryFailure("QueryFailed", "The query engine failed on this query.",
                            hint="Check the query; the server's log has the engine's message.")


def _execute(store: ox.Store, request: QueryRequest, query_names_dataset: bool) -> object:
    """Run the query on the protocol's dataset, which replaces the query's FROM / FROM NAMED (SPARQL 1.1 Protocol
    2.1.4); else on the query's own; else on the store's default graph, or the union of the named graphs when the
    settings say so."""
    if request.default_graphs is None and request.named_graphs is None:
        # pyoxigraph lets the union flag override FROM, so it is only set for queries without a dataset clause
        union = request.union_default_graph and not query_names_dataset
        return store.query(request.text, base_iri=request.base_iri, use_default_graph_as_union=union)
    default_graph: list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] = [
        ox.NamedNode(g) for g in request.default_graphs or ()
    ]
    named_graphs: list[ox.NamedNode | ox.BlankNode] = [ox.NamedNode(g) for g in request.named_graphs or ()]
    return store.query(request.text, base_iri=request.base_iri, default_graph=default_graph,
                       named_graphs=named_graphs)


def _write(result: object, serialiser: str, request: QueryRequest, prefixes: Mapping[str, str]) -> Written:
    if isinstance(result, ox.QueryBoolean):
        return write_engine_boolean(result, serialiser)
    if isinstance(result, ox.QuerySolutions):
        return write_engine_solutions(result, serialiser, request.max_rows)
    assert isinstance(result, ox.QueryTriples)
    return write_triples(result, serialiser, request.max_rows, prefixes)
