"""The map read from a remote SPARQL 1.1 engine (``evidencemap serve --endpoint URL``): a
:class:`~evidencemap.graph.engine.QueryEngine` over the SPARQL 1.1 Protocol, with httpx.

Every read of the gate becomes one POST to the endpoint. The map is the engine's named graphs under the map's graph
root (``{base}graph/``): other graphs the engine holds (Virtuoso's system graphs, another project's data) are never
read. A query "over the union" names those graphs as its dataset, each as a ``default-graph-uri`` and a
``named-graph-uri`` (SPARQL 1.1 Protocol 2.1.4), so the default graph is their merge on any conforming engine,
whatever its own default-graph setting. Results are parsed with pyoxigraph (``parse_query_results``, ``parse``).

The client is bounded: a time limit (``query_timeout``) and a response size (``endpoint_max_bytes``), mapped to
503 and 413 as for the embedded engine. An engine that cuts results at a row limit without an error (Virtuoso's
``ResultSetMaxRows``: 200, the first N rows and an ``X-SPARQL-MaxRows: N`` header; or the ``endpoint_max_rows``
the operator declares) is detected: the gate's own reads fail with :class:`EngineTruncated` rather than count from
part of the data, and the /sparql proxy (:mod:`evidencemap.sparql.proxy`) says so in its response.

Blank nodes cannot be sent back: a label in one response names nothing in the next request. A read bound to a
blank node raises :class:`BlankNodeAcrossRequests`.

A living map on the engine (``serve --endpoint URL [--update-endpoint URL] --state DIR``; graph/writes.py) sends each
change as one SPARQL 1.1 Update request to the update endpoint (:meth:`RemoteEngine.update`); the server opens no
connection to anything else.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.errors import DataError, EvidenceMapError
from evidencemap.graph.engine import GraphName, QueryResult, Solutions, Subject
from evidencemap.graph.iris import IriSpace
from evidencemap.graph.store import EvidenceMap
from evidencemap.graph.terms import Binding
from evidencemap.graph.validation import validation_report
from evidencemap.graph.values import _SKIPPED, Values, with_values
from evidencemap.settings import Settings

if TYPE_CHECKING:  # httpx is imported when an Endpoint is made: a server on its embedded store never loads it
    import httpx

log = logging.getLogger("evidencemap.remote")

RESULTS_JSON = "application/sparql-results+json"
RESULTS_XML = "application/sparql-results+xml"
ACCEPT = f"{RESULTS_JSON}, {RESULTS_XML};q=0.9, application/n-triples;q=0.8, text/turtle;q=0.7"
# Asked by the query's form: an engine may write a CONSTRUCT's triples as SPARQL results when results are accepted.
ACCEPT_RESULTS = f"{RESULTS_JSON}, {RESULTS_XML};q=0.9"
ACCEPT_GRAPH = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"
_FORM = re.compile(r"(?<![\w:?$-])(SELECT|ASK|CONSTRUCT|DESCRIBE)(?![\w:-])", re.IGNORECASE)
RESULT_PARSERS = {
    RESULTS_JSON: ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    RESULTS_XML: ox.QueryResultsFormat.XML,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
GRAPH_PARSERS = {
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,  # N-Triples as older engines label it
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/n-quads": ox.RdfFormat.N_QUADS,
}
MAX_ROWS_HEADER = "x-sparql-maxrows"  # Virtuoso: the row limit a result was cut at
ENGINE_HINT = "Check that the SPARQL engine is running and reachable, or start the server without --endpoint."
SPARQL_UPDATE = "application/sparql-update"

QUADS = "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
GRAPHS = "SELECT DISTINCT ?g WHERE { GRAPH ?g { } }"
GRAPHS_BY_SCAN = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"  # engines whose GRAPH ?g {} finds none


class EngineUnavailable(EvidenceMapError):
    """The remote engine did not answer in time, or could not be reached (503)."""

    status = 503


class EngineFailed(EvidenceMapError):
    """The remote engine answered with an error or with something that is not a SPARQL result (502)."""

    status = 502


class ResultTooLarge(EvidenceMapError):
    """The remote engine's answer is larger than the server reads (413)."""

    status = 413


class EngineTruncated(EvidenceMapError):
    """The remote engine cut a result at its row limit: the gate refuses to answer from part of the data (502)."""

    status = 502


class BlankNodeAcrossRequests(EvidenceMapError):
    """A read was bound to a blank node, which a remote engine cannot be sent (500: a reader of the map should
    not follow blank nodes)."""

    status = 500


@dataclass(frozen=True)
class Reply:
    """One answer of the endpoint: its body, media type (without parameters) and what it says of truncation."""

    body: bytes
    media_type: str
    max_rows: int | None  # the engine's row limit, when it says it applied one (X-SPARQL-MaxRows)
    partial: bool  # 206 Partial Content (Virtuoso's "anytime" answers)


class Endpoint:
    """The HTTP side of a SPARQL 1.1 endpoint: one POST per query, bounded in time and size."""

    def __init__(
        self, url: str, *, timeout: float, max_bytes: int, client: httpx.Client | None = None
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.max_bytes = max_bytes
        import httpx

        self.client = client or httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=8),
            follow_redirects=False,
        )

    def post(
        self,
        query: str,
        *,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
        accept: str = ACCEPT,
    ) -> Reply:
        """POST ``query`` with the protocol's dataset parameters; the body read up to :attr:`max_bytes`.

        :raises SyntaxError: when the engine answers 400 (the engine's words are logged, not shown).
        :raises EngineUnavailable: on a time-out or a connection failure.
        :raises ResultTooLarge: when the answer passes :attr:`max_bytes`.
        :raises EngineFailed: for any other error status.
        """
        import httpx

        form = {"query": query, "default-graph-uri": list(default_graphs), "named-graph-uri": list(named_graphs)}
        deadline = time.monotonic() + self.timeout
        try:
            with self.client.stream("POST", self.url, data=form,
                                    headers={"Accept": accept}) as response:
                body = self._read(response, deadline)
                media = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if response.status_code == 400:
                    log.info("the engine refused a query: %.300s", body.decode("utf-8", "replace"))
                    raise SyntaxError("the SPARQL engine could not read the query")
                if response.status_code not in (200, 206):
                    log.error("the engine answered %s: %.300s", response.status_code,
                              body.decode("utf-8", "replace"))
                    raise EngineFailed(f"The SPARQL engine answered {response.status_code}.", hint=ENGINE_HINT)
                cap = response.headers.get(MAX_ROWS_HEADER, "")
                return Reply(body, media, int(cap) if cap.strip().isdigit() else None,
                             response.status_code == 206)
        except httpx.TimeoutException:
            raise EngineUnavailable(f"The SPARQL engine did not answer within {self.timeout:g} s.",
                                    hint="Simplify the query, or raise EVIDENCEMAP_QUERY_TIMEOUT.") from None
        except httpx.HTTPError as exc:
            log.error("the engine at %s cannot be reached: %s", self.url, exc)
            raise EngineUnavailable("The SPARQL engine cannot be reached.", hint=ENGINE_HINT) from None

    def update(self, text: str, url: str) -> None:
        """POST one SPARQL 1.1 Update request to ``url`` (the protocol's "update via POST directly": the body is the
        update), which a conforming engine applies as a whole or not at all.

        :raises EngineUnavailable: on a time-out or a connection failure.
        :raises EngineFailed: when the engine answers with an error status (its words are logged).
        """
        import httpx

        try:
            response = self.client.post(url, content=text.encode("utf-8"), headers={"Content-Type": SPARQL_UPDATE})
        except httpx.TimeoutException:
            raise EngineUnavailable(f"The SPARQL engine did not apply the update within {self.timeout:g} s.",
                                    hint=ENGINE_HINT) from None
        except httpx.HTTPError as exc:
            log.error("the engine's update endpoint %s cannot be reached: %s", url, exc)
            raise EngineUnavailable("The SPARQL engine's update endpoint cannot be reached.",
                                    hint=ENGINE_HINT) from None
        if response.status_code >= 300:
            log.error("the engine refused an update (%s): %.300s", response.status_code, response.text)
            raise EngineFailed(f"The SPARQL engine refused the update ({response.status_code}).",
                               hint="Check that --update-endpoint names the engine's SPARQL 1.1 Update endpoint and "
                                    "that it accepts writes from this server.")

    def _read(self, response: httpx.Response, deadline: float) -> bytes:
        import httpx

        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise ResultTooLarge(
                    f"The SPARQL engine's answer is larger than {self.max_bytes:,} bytes.",
                    hint="Ask for fewer rows (LIMIT), or raise EVIDENCEMAP_ENDPOINT_MAX_BYTES.",
                )
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout("the answer took longer than the time limit")
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self.client.close()


def parse_reply(reply: Reply) -> QueryResult:
    """The reply as the gate's plain containers: :class:`Solutions`, a list of triples, or a bool.

    :raises EngineFailed: for a media type that is neither SPARQL results nor RDF, or a body that does not parse.
    """
    try:
        if reply.media_type in RESULT_PARSERS:
            parsed = ox.parse_query_results(reply.body, RESULT_PARSERS[reply.media_type])
            if isinstance(parsed, ox.QuerySolutions):
                return Solutions(list(parsed.variables), parsed)
            return bool(parsed)
        if reply.media_type in GRAPH_PARSERS:
            return [q.triple for q in ox.parse(reply.body, GRAPH_PARSERS[reply.media_type])]
    except SyntaxError as exc:
        log.error("the engine's answer does not parse as %s: %s", reply.media_type, exc)
        raise EngineFailed(f"The SPARQL engine's answer is not valid {reply.media_type}.", hint=ENGINE_HINT) from None
    raise EngineFailed(f"The SPARQL engine answered in {reply.media_type or 'no media type'}, which is neither "
                       "SPARQL results nor RDF.", hint=ENGINE_HINT)


def accept_for(form: str) -> str:
    """The Accept header for a query of ``form`` (SELECT, ASK, CONSTRUCT or DESCRIBE).

    >>> accept_for("CONSTRUCT")
    'application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5'
    """
    return ACCEPT_GRAPH if form in {"CONSTRUCT", "DESCRIBE"} else ACCEPT_RESULTS


def query_form(text: str) -> str:
    """The form of a query: its first SELECT, ASK, CONSTRUCT or DESCRIBE outside IRIs, strings and comments.

    >>> query_form('PREFIX ask: <http://e/select#> CONSTRUCT { ?s ask:p "ASK" } WHERE { ?s ?p ?o }')
    'CONSTRUCT'
    """
    match = _FORM.search(_SKIPPED.sub(" ", text))
    return match.group(1).upper() if match else "SELECT"


def result_rows(result: QueryResult) -> int:
    return 1 if isinstance(result, bool) else len(result)


def cut_at(reply: Reply, rows: int, known_cap: int) -> int | None:
    """The row limit the engine cut this result at, or None when it is whole as far as can be told: the engine
    said it applied its limit and the result fills it, the answer is partial (206), or it has exactly the row
    limit the operator declared for the engine (``known_cap``; 0: none declared)."""
    if reply.partial:
        return reply.max_rows or rows
    if reply.max_rows is not None and rows >= reply.max_rows:
        return reply.max_rows
    if known_cap and rows == known_cap:
        return known_cap
    return None


class RemoteEngine:
    """A :class:`~evidencemap.graph.engine.QueryEngine` over a SPARQL 1.1 endpoint, holding the map's named graphs
    (or some of them: :meth:`scoped`)."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        base_iri: str = ns.CANONICAL_BASE,
        known_cap: int = 0,
        graphs: Sequence[ox.NamedNode] | None = None,
        update_url: str = "",
        present: dict[str, list[str]] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.base_iri = base_iri
        self.root = IriSpace(base_iri).served(ns.GRAPH)
        self.known_cap = known_cap
        self.scope = list(graphs) if graphs is not None else None
        self.update_url = update_url  # the SPARQL 1.1 Update endpoint a living map writes to ("": none)
        # The engine's graphs under the root, read once and shared with the views (:meth:`scoped`), so that a write
        # through one view (:meth:`refresh`) is seen by all.
        self._present = present if present is not None else {}

    def scoped(self, graphs: Sequence[ox.NamedNode]) -> RemoteEngine:
        return RemoteEngine(self.endpoint, base_iri=self.base_iri, known_cap=self.known_cap, graphs=graphs,
                            update_url=self.update_url, present=self._present)

    def refresh(self) -> None:
        """Read the list of the map's graphs again at the next query (after a push or a write), in every view."""
        self._present.clear()

    def update(self, text: str) -> None:
        """Apply one SPARQL 1.1 Update request on the engine (a living map's change), then read its graphs again.

        :raises EngineUnavailable: (503) when the engine cannot be reached; :raises EngineFailed: (502) when it
            refuses the update or no update endpoint is configured.
        """
        if not self.update_url:
            raise EngineFailed("No SPARQL Update endpoint is configured for the engine.",
                               hint="Start the server with --update-endpoint URL.")
        try:
            self.endpoint.update(text, self.update_url)
        finally:
            self.refresh()  # a failed request may have been applied all the same (a reply lost on the way)

    def graph_names(self) -> list[str]:
        """The IRIs of the map's graphs that hold something (a view: those of its map)."""
        return [g.value for g in self.named_graphs()]

    def named_graphs(self) -> list[ox.NamedNode | ox.BlankNode]:
        present = self._present.get("graphs")
        if present is None:
            present = self._present["graphs"] = self._present_graphs()
        wanted = {g.value for g in self.scope} if self.scope is not None else None
        return [ox.NamedNode(g) for g in present if wanted is None or g in wanted]

    def _present_graphs(self) -> list[str]:
        found = self._graph_list(GRAPHS) or self._graph_list(GRAPHS_BY_SCAN)
        return sorted(g for g in found if g.startswith(self.root))

    def _graph_list(self, query: str) -> list[str]:
        result = parse_reply(self.endpoint.post(query, accept=ACCEPT_RESULTS))
        if not isinstance(result, Solutions):
            raise EngineFailed("The SPARQL engine did not answer a SELECT query with solutions.", hint=ENGINE_HINT)
        return [term.value for row in result if isinstance(term := row["g"], ox.NamedNode)]

    def query(
        self, text: str, *, union: bool = True, substitutions: Mapping[str, Binding] | None = None
    ) -> QueryResult:
        if substitutions:
            raise ValueError("a remote engine takes values in a VALUES block only")
        graphs = self.graph_names()
        reply = self.endpoint.post(text, default_graphs=graphs if union else (), named_graphs=graphs,
                                   accept=accept_for(query_form(text)))
        result = parse_reply(reply)
        cut = cut_at(reply, result_rows(result), self.known_cap)
        if cut is not None:
            raise EngineTruncated(
                f"The SPARQL engine cut a result at its limit of {cut:,} rows, so the answer would be incomplete.",
                hint="Raise the engine's row limit (Virtuoso: ResultSetMaxRows in virtuoso.ini) above the map's "
                     "largest result; docs/deploy.md.",
            )
        return result

    def quads(
        self, subject: Subject | None, predicate: ox.NamedNode | None, obj: Binding | None, graph: GraphName | None
    ) -> list[ox.Quad]:
        if isinstance(graph, ox.DefaultGraph):
            return []  # the map is in named graphs only
        fixed = {name: term for name, term in (("s", subject), ("p", predicate), ("o", obj), ("g", graph))
                 if term is not None}
        text = QUADS
        if fixed:
            bound = with_values(QUADS, Values.row(fixed))
            if bound is None:
                raise BlankNodeAcrossRequests("A blank node cannot be looked up on a remote SPARQL engine.")
            text = bound
        result = self.query(text, union=False)
        assert isinstance(result, Solutions)
        quads = []
        for row in result:
            s, p, o, g = row["s"], row["p"], row["o"], row["g"]
            if isinstance(s, ox.NamedNode | ox.BlankNode) and isinstance(p, ox.NamedNode) and o is not None \
                    and isinstance(g, ox.NamedNode):
                quads.append(ox.Quad(s, p, o, g))
        return quads

    def size(self) -> int:
        result = self.query(COUNT, union=False)
        assert isinstance(result, Solutions)
        count = result[0]["n"] if result else None
        return int(count.value) if isinstance(count, ox.Literal) else 0


def open_remote(settings: Settings) -> EvidenceMap:
    """The map held by the engine at ``settings.endpoint`` (put there by ``evidencemap push``), read through a
    :class:`RemoteEngine`, with the validation of the map's files (``settings.data``, the bundled map when empty).

    Validation reads the files, not the engine: SHACL over the whole map needs all of it in one process (over HTTP,
    hundreds of MB at 10,000 studies), and the files' result is kept in the store cache, so a second start does not
    validate again (:meth:`EvidenceMap.load` with ``persistent``). That the engine holds what was validated is then
    checked by counting: the engine must hold as many quads in the map's graphs as the files make.

    The map's embedded ``store`` is an empty in-memory store that nothing reads in this mode: /sparql forwards to the
    engine (:mod:`evidencemap.sparql.proxy`). With a living map (``settings.state``) it is the files' store instead,
    which the journal is replayed onto (graph/writes.py): the local copy of the source of truth, which a change's
    checks read; the engine's count is then checked once the journal's changes it lacks have been sent
    (:meth:`LivingMap.catch_up <evidencemap.graph.writes.LivingMap.catch_up>`), not here.

    :raises DataError: when the engine holds no graph of a map under the base IRI, or not as many quads as the files.
    :raises EngineUnavailable: when the engine cannot be reached.
    """
    started = time.perf_counter()
    files = EvidenceMap.load(settings, persistent=settings.persistent_store)
    validated = validation_report(files)
    expected = files.triple_count()
    living = bool(settings.state)
    endpoint = Endpoint(settings.endpoint, timeout=settings.query_timeout, max_bytes=settings.endpoint_max_bytes)
    engine = RemoteEngine(endpoint, base_iri=settings.base_iri, known_cap=settings.endpoint_max_rows,
                          update_url=(settings.update_endpoint or settings.endpoint) if living else "")
    try:
        if not engine.named_graphs():
            raise DataError(f"The SPARQL engine at {settings.endpoint} holds no graph under {engine.root}.",
                            hint="Load the map into it first: evidencemap push --endpoint URL --data DIR.")
        held = engine.size()
    except EvidenceMapError:
        endpoint.close()
        raise
    if held != expected and not living:
        endpoint.close()
        raise DataError(
            f"The SPARQL engine at {settings.endpoint} holds {held:,} quads in the map's graphs; the map's files "
            f"make {expected:,}, so what it holds is not the map that was validated.",
            hint="Push the files again (evidencemap push --data DIR), or name the files that were pushed with --data.",
        )
    remote = EvidenceMap(store=files.store if living else ox.Store(), settings=settings, sources=files.sources,
                         query_engine=engine, load_seconds=time.perf_counter() - started,
                         cache=files.cache if living else None)
    remote.derive("validation", lambda: validated)
    return remote
