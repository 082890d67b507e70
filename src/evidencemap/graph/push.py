"""``evidencemap push``: a map loaded into a remote SPARQL 1.1 engine, one named graph at a time.

The map is built exactly as ``serve`` builds it (:func:`evidencemap.graph.loading.build_store`: its files in their
named graphs, the findings' statements materialised), then each named graph replaces the engine's graph of that
name: with the SPARQL 1.1 Graph Store HTTP Protocol (one ``PUT ?graph=IRI`` of N-Triples) when the engine has a
graph store endpoint, else with SPARQL 1.1 Update (``DROP SILENT GRAPH``, then ``INSERT DATA`` in batches).

A blank node in ``INSERT DATA`` is a new node in each request: the triples that share blank nodes (a selector and
the passage it belongs to, an RDF list) are kept in one batch, so the graph the engine holds is the map's.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyoxigraph as ox

from evidencemap.errors import EvidenceMapError
from evidencemap.graph.loading import build_store

BATCH_TRIPLES = 5_000
N_TRIPLES = "application/n-triples"


class PushFailed(EvidenceMapError):
    """The engine refused a write or could not be reached (502)."""

    status = 502


@dataclass(frozen=True)
class Pushed:
    graph: str
    triples: int
    requests: int


def push_store(
    store: ox.Store,
    *,
    graph_store: str | None = None,
    update_endpoint: str | None = None,
    client: httpx.Client | None = None,
    batch: int = BATCH_TRIPLES,
) -> list[Pushed]:
    """Replace, in the engine, each named graph of ``store`` with its content.

    :raises PushFailed: naming the graph and the engine's status when a request fails.
    """
    if not graph_store and not update_endpoint:
        raise PushFailed("Nowhere to push to: give a Graph Store endpoint or a SPARQL Update endpoint.")
    owned = client is None
    http = client or httpx.Client(timeout=httpx.Timeout(300.0, connect=10.0))
    try:
        pushed = []
        for graph in sorted(store.named_graphs(), key=str):
            if not isinstance(graph, ox.NamedNode):
                continue
            triples = [q.triple for q in store.quads_for_pattern(None, None, None, graph)]
            if graph_store:
                body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
                _send(http, "PUT", graph_store, graph, params={"graph": graph.value}, content=body,
                      headers={"Content-Type": N_TRIPLES})
                pushed.append(Pushed(graph.value, len(triples), 1))
                continue
            assert update_endpoint is not None
            requests = [f"DROP SILENT GRAPH {graph}"]
            requests += [f"INSERT DATA {{ GRAPH {graph} {{\n{_ntriples(part)}}} }}"
                         for part in batches(triples, batch)]
            for update in requests:
                _send(http, "POST", update_endpoint, graph, content=update.encode("utf-8"),
                      headers={"Content-Type": "application/sparql-update"})
            pushed.append(Pushed(graph.value, len(triples), len(requests)))
        return pushed
    finally:
        if owned:
            http.close()


def push_map(
    paths: Sequence[Path], base_iri: str, *, graph_store: str | None, update_endpoint: str | None
) -> tuple[list[Pushed], float]:
    """Build the map of ``paths`` and push it (:func:`push_store`); also the seconds it took."""
    started = time.perf_counter()
    store = build_store(paths, base_iri=base_iri)
    pushed = push_store(store, graph_store=graph_store, update_endpoint=update_endpoint)
    return pushed, time.perf_counter() - started


def _send(
    http: httpx.Client, method: str, url: str, graph: ox.NamedNode, *, content: bytes, headers: dict[str, str],
    params: dict[str, str] | None = None,
) -> None:
    try:
        response = http.request(method, url, content=content, headers=headers, params=params)
    except httpx.HTTPError as exc:
        raise PushFailed(f"The engine at {url} cannot be reached ({type(exc).__name__}).") from None
    if response.status_code >= 300:
        raise PushFailed(f"Writing {graph.value} to {url}: the engine answered {response.status_code}: "
                         f"{response.text[:300]}")


def _ntriples(triples: list[ox.Triple]) -> str:
    return "".join(f"{t} .\n" for t in triples)


def batches(triples: Iterable[ox.Triple], size: int) -> Iterator[list[ox.Triple]]:
    """The triples in batches of about ``size``, the triples linked by blank nodes always in one batch.

    >>> b = ox.BlankNode("x")
    >>> s, p = ox.NamedNode("http://e/s"), ox.NamedNode("http://e/p")
    >>> triples = [ox.Triple(s, p, b), ox.Triple(s, p, s), ox.Triple(b, p, ox.Literal("1"))]
    >>> [len(part) for part in batches(triples, 1)]
    [1, 2]
    """
    parent: dict[ox.BlankNode, ox.BlankNode] = {}

    def find(node: ox.BlankNode) -> ox.BlankNode:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    plain: list[ox.Triple] = []
    linked: list[tuple[ox.BlankNode, ox.Triple]] = []
    for triple in triples:
        nodes = [t for t in (triple.subject, triple.object) if isinstance(t, ox.BlankNode)]
        if not nodes:
            plain.append(triple)
            continue
        for other in nodes[1:]:
            parent[find(other)] = find(nodes[0])
        linked.append((nodes[0], triple))
    groups: dict[ox.BlankNode, list[ox.Triple]] = {}
    for node, triple in linked:
        groups.setdefault(find(node), []).append(triple)
    current: list[ox.Triple] = []
    for group in [[t] for t in plain] + list(groups.values()):
        if current and len(current) + len(group) > size:
            yield current
            current = []
        current.extend(group)
    if current:
        yield current
