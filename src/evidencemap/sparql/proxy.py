"""``/sparql`` in front of a remote SPARQL engine (``serve --endpoint``): the guard checks each query, and the text
it checked is the text sent (no worker processes in this mode: the main server connects to the configured endpoint
and to nothing else; docs/security.md).

The dataset sent is always the map's: the protocol's ``default-graph-uri`` / ``named-graph-uri`` are kept only
for the map's graphs (another graph is read as empty, as on the embedded store), and the union default graph is
the map's graphs, never the engine's own default. A query that names its own dataset (``FROM``, ``FROM NAMED``)
is refused here, as the engine would read those graphs whatever they are; the protocol's parameters say the same.

Results are read as SPARQL JSON (or RDF for graphs) and written in the format the client asked for with the
endpoint's row cap, like the embedded engine's. An engine that cut the result at its own row limit (Virtuoso's
``ResultSetMaxRows``: :func:`evidencemap.graph.remote.cut_at`) makes the answer say it is truncated
(``Evidencemap-Truncated: true``, and the note inside the results).
"""

from __future__ import annotations

import asyncio
import logging
import time

import pyoxigraph as ox

from evidencemap import errors
from evidencemap.graph.engine import Solutions
from evidencemap.graph.remote import (
    RESULT_PARSERS,
    EngineFailed,
    RemoteEngine,
    Reply,
    accept_for,
    cut_at,
    parse_reply,
    result_rows,
)
from evidencemap.sparql.execution import FORM_KINDS, QueryOutcome, QueryRequest, result_format
from evidencemap.sparql.guard import engine_syntax_error, inspect_query
from evidencemap.sparql.results import (
    Written,
    write_boolean,
    write_engine_solutions,
    write_solutions,
    write_triples,
)

log = logging.getLogger("evidencemap.sparql")


class RemoteProxy:
    """What /sparql runs queries with when the map is on a remote engine: the worker pool's interface
    (:meth:`run`, :meth:`start`, :meth:`stop`, :meth:`refresh`) over :func:`run_remote`."""

    def __init__(self, engine: RemoteEngine) -> None:
        self.engine = engine

    def start(self) -> None:
        """Nothing to start: the engine is another server."""

    async def stop(self) -> None:
        await asyncio.to_thread(self.engine.endpoint.close)

    def refresh(self) -> None:
        """After a change: read the list of the map's graphs again."""
        self.engine.refresh()

    async def run(self, request: QueryRequest) -> QueryOutcome:
        return await asyncio.to_thread(run_remote, self.engine, request)


def run_remote(engine: RemoteEngine, request: QueryRequest) -> QueryOutcome:
    """Guard one query, send the text the guard checked to the engine with the map's dataset, and write its result
    with the row cap.

    :raises QueryRefused: for updates, ``LOAD`` and ``SERVICE`` (nothing is sent).
    :raises BadRequest: for syntax errors (with line and column where pyoxigraph's parser finds them), and for a
        query that names its own dataset.
    :raises NotAcceptable: when the client accepts no format this query's results can be written in.
    :raises EngineUnavailable, ResultTooLarge, EngineFailed: when the engine is down or slow (503), answers more
        than the server reads (413) or fails (502).
    """
    started = time.perf_counter()
    inspected = inspect_query(request.text)
    kind = FORM_KINDS[inspected.form]
    fmt = result_format(inspected.form, request)
    text = inspected.text or request.text
    default, named = dataset(engine, request, inspected.has_dataset)
    try:
        reply = engine.endpoint.post(text, default_graphs=default, named_graphs=named,
                                     accept=accept_for(inspected.form))
    except SyntaxError:
        raise syntax_error(text) from None
    if kind == "tabular" and reply.media_type in RESULT_PARSERS:
        written, cut = _solutions(engine, reply, fmt.name, request.max_rows)
    else:
        result = parse_reply(reply)
        cut = cut_at(reply, result_rows(result), engine.known_cap)
        written = _write(result, fmt.name, request, {**request.prefixes, **inspected.prefixes})
    if cut is not None:
        log.warning("the SPARQL engine cut a result at its row limit (%s rows)", cut)
    return QueryOutcome(inspected.form, fmt.name, written.body, written.rows, written.truncated or cut is not None,
                        time.perf_counter() - started)


def dataset(engine: RemoteEngine, request: QueryRequest, query_names_dataset: bool) -> tuple[list[str], list[str]]:
    """(default graphs, named graphs) to send: always graphs of the map; ``[root]`` (the graph root, never a graph
    of any map) stands for an empty graph, as an empty list would mean "the engine's own dataset"."""
    graphs = engine.graph_names()
    empty = [engine.root]
    if request.default_graphs is None and request.named_graphs is None:
        if query_names_dataset:
            raise errors.BadRequest(
                "This endpoint does not read FROM or FROM NAMED in a query.",
                hint="Name the graphs with the protocol's default-graph-uri and named-graph-uri parameters instead.",
            )
        return (graphs if request.union_default_graph else empty), graphs
    own = set(graphs)
    default = [g for g in request.default_graphs or () if g in own]
    named = [g for g in request.named_graphs or () if g in own]
    return default or empty, named or empty


def syntax_error(text: str) -> errors.EvidenceMapError:
    """The engine could not read ``text``: the error where pyoxigraph's parser stops (the engine's own words are
    logged, never shown: they could hold what another server said), or a plain refusal where pyoxigraph reads it
    (an engine's dialect differs)."""
    try:
        ox.Store().query(text)  # an empty store: parsing, and an evaluation over no data
    except SyntaxError as exc:
        return engine_syntax_error(str(exc), text)
    except Exception:  # an evaluation error: only the parse matters here
        pass
    return errors.BadRequest("The SPARQL engine could not read this query.",
                             hint="Check it against SPARQL 1.1; the server's log has the engine's message.")


def _solutions(engine: RemoteEngine, reply: Reply, serialiser: str, max_rows: int) -> tuple[Written, int | None]:
    """The engine's SELECT results written by pyoxigraph with the cap (no Python object per row), and the row limit
    the engine cut them at, if any (the rows are counted again only when the engine could have cut them)."""
    try:
        parsed = ox.parse_query_results(reply.body, RESULT_PARSERS[reply.media_type])
        if not isinstance(parsed, ox.QuerySolutions):
            raise SyntaxError("not SELECT results")
        written = write_engine_solutions(parsed, serialiser, max_rows)
        rows = written.rows
        may_be_cut = reply.partial or reply.max_rows is not None or engine.known_cap > 0
        if written.truncated and may_be_cut:
            again = ox.parse_query_results(reply.body, RESULT_PARSERS[reply.media_type])
            rows = sum(1 for _ in again) if isinstance(again, ox.QuerySolutions) else rows
    except SyntaxError as exc:
        log.error("the engine's answer does not parse as %s: %s", reply.media_type, exc)
        raise EngineFailed(f"The SPARQL engine's answer is not valid {reply.media_type}.") from None
    return written, cut_at(reply, rows, engine.known_cap)


def _write(result: object, serialiser: str, request: QueryRequest, prefixes: dict[str, str]) -> Written:
    if isinstance(result, bool):
        return write_boolean(result, serialiser)
    if isinstance(result, Solutions):
        return write_solutions(result, serialiser, request.max_rows)
    assert isinstance(result, list)
    return write_triples(result, serialiser, request.max_rows, prefixes)
