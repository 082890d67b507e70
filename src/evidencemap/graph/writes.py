"""Writes to a living map: one change at a time, validated on the subgraph it touches, journalled, then applied.

:class:`LivingMap` holds a map's journal (graph/journal.py) in a state folder, replays it when the map is opened,
and commits a change in this order, under one lock:

1. the caller checks the change (:func:`check_subgraph`: SHACL on the changed resources with the vocabulary, the
   quotes of new passages, slugs and reference numbers unique in the whole map; model/edits.py adds the claims
   check), with the store as it is;
2. the record is appended to the journal and fsynced (from here the change survives a crash);
3. the quads are applied to the store in one transaction (readers see the map before or after, never between);
4. :meth:`EvidenceMap.changed` gets the change: the facet index follows it, every other derived structure is
   dropped (web/edits.py then refreshes the /sparql workers).

A second process cannot write the same map: the state folder is locked (``fcntl.flock``) while a map is open for
writing, and the lock is released by the kernel when the process ends, even by ``kill -9``.

**On a remote engine** (``serve --endpoint URL [--update-endpoint URL] --state DIR``, graph/remote.py) the map's files
and the journal stay the source of truth: the store of step 3 is the local copy of the files the journal is replayed
onto (what the checks read), and the change is then sent to the engine as one SPARQL 1.1 Update request (the
``DELETE DATA``/``INSERT DATA`` of the record, which the engine applies whole or not at all). If the engine refuses
it or cannot be reached, the write answers 503 and says so: the change is journalled, and it is sent again, with
every other change the engine lacks, before the next change or when the server next starts (:meth:`catch_up`).
Which changes the engine holds is read from the engine itself: each change's PROV record (its number) is in the same
update as the change, in the map's changes graph, so the highest number there is the last change it applied. An
engine whose count of quads still differs from the local copy's after that (the map pushed again from the files)
is sent every change again: ``DELETE DATA``/``INSERT DATA`` replayed in order give the same map whatever part of the
journal it held (graph/journal.py).
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.errors import DataError, EvidenceMapError
from evidencemap.graph.journal import Journal, Record, rebased, replay, update_text
from evidencemap.graph.remote import RemoteEngine
from evidencemap.graph.store import Delta, EvidenceMap
from evidencemap.graph.tokens import TokenStore
from evidencemap.graph.values import Values

DCAT = "http://www.w3.org/ns/dcat#"
EDITION_QUERY = ns.sparql_prefixes(("prov",)) + f"""
SELECT ?edition ?version ?graph WHERE {{
  GRAPH ?graph {{ ?edition a <{DCAT}Dataset> ; prov:wasDerivedFrom ?review .
                 OPTIONAL {{ ?edition <{DCAT}version> ?version }} }}
}} ORDER BY ?edition LIMIT 1
"""
STUDY_GRAPH = ns.sparql_prefixes(("evm",)) + "SELECT ?graph WHERE { GRAPH ?graph { ?s a evm:IncludedStudy } } LIMIT 1"
# The highest change number the store (the engine) holds in the map's changes graph (?graph, bound).
LAST_CHANGE = ns.sparql_prefixes(("evm",)) + f"""
SELECT (MAX(?number) AS ?last) WHERE {{ GRAPH ?graph {{ ?change a evm:MapChange ; <{ns.DCTERMS}identifier> ?number }} }}
"""
LOCAL_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
# A replay touching more resources than this is not followed by the derived structures: they are built again.
FOLLOW_AT_MOST = 50_000


class EngineNotUpdated(EvidenceMapError):
    """A change is journalled (it is not lost) but the remote engine did not apply it yet (503)."""

    status = 503


class WriteConflict(DataError):
    """Another process holds the map open for writing (409)."""

    status = 409


@dataclass(frozen=True)
class Problem:
    """A reason a change is refused, as a person reads it."""

    focus: str
    message: str
    path: str | None = None


class LivingMap:
    """A map open for writing, with its journal in ``state / slug``."""

    def __init__(self, evidence_map: EvidenceMap, state: Path, slug: str | None = None) -> None:
        self.map = evidence_map
        self.state = state
        edition = self.edition()
        self.slug = slug or (ns.last_segment(edition[0]) if edition else "map")
        self.folder = state / self.slug
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock_file = os.open(self.folder / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_file)
            raise WriteConflict(
                f"Map {self.slug!r} is open for writing in another process (a running server?).",
                hint="Send the change to that server over HTTP, or stop it first.") from None
        self.journal = Journal(self.folder)
        self.tokens = TokenStore(state)
        self.lock = threading.RLock()
        self.base_version = self.journal.records[0].version if self.journal.records else (edition[1] if edition else "")
        engine = evidence_map.engine
        self.remote = engine if isinstance(engine, RemoteEngine) and engine.update_url else None
        replayed = replay(evidence_map.store, self.journal, evidence_map.settings.base_iri)
        if replayed and self.remote is None:  # the embedded store: what was built from it (the facet index) follows
            evidence_map.changed(self._delta(self.journal.records))
        self.engine_at = 0  # the last change the remote engine is known to hold
        if self.remote is not None:
            self.catch_up(verify=True)

    def close(self) -> None:
        if self._lock_file >= 0:
            os.close(self._lock_file)  # releases the flock
            self._lock_file = -1

    # -- what a change needs to know ------------------------------------------------------------------------------

    def edition(self) -> tuple[str, str, str] | None:
        """(edition IRI, its dcat:version, its graph), canonical; None for a map without an edition."""
        rows = self.map.select(EDITION_QUERY)
        if not rows:
            return None
        row = rows[0]
        return (self.map.canonical(str(row["edition"])), str(row.get("version", "")),
                self.map.canonical(str(row["graph"])))

    def data_graph(self) -> str:
        """The named graph new studies go to: the one the map's studies are in (canonical IRI)."""
        rows = self.map.select(STUDY_GRAPH)
        if rows:
            return self.map.canonical(str(rows[0]["graph"]))
        edition = self.edition()
        return edition[2] if edition else ns.GRAPH_DATA

    def inferred_graph(self) -> str:
        """Where findings' statements are materialised: the map's own inferred graph when it has one."""
        own = ns.map_graph(self.slug, "inferred")
        return own if self.map.iri(own) in set(self.map.named_graphs()) else ns.GRAPH_INFERRED

    def changes_graph(self) -> str:
        return ns.map_graph(self.slug, "changes")

    # -- committing -----------------------------------------------------------------------------------------------

    def commit(self, record: Record) -> None:
        """Journal ``record`` (fsynced), apply it to the store in one transaction (and then to the remote engine),
        then carry the derived caches to the new version. The caller holds :attr:`lock` from its checks to here.

        :raises EngineNotUpdated: (503) on a remote engine that did not apply the change: it is journalled all the
            same, and sent again before the next change or at the next start.
        """
        with self.lock:
            base = self.map.settings.base_iri
            added, removed = record.added_quads(base), record.removed_quads(base)
            # The update is written (and so known to be writable) before the record is journalled.
            update = update_text(added, removed)
            self.journal.append(record)
            # Under the lock derived structures are built under: each (facet index, gap map, search...) is built
            # wholly before the change or wholly after it, never from a mix of both; the facet index follows the
            # change (model/facet_index.py) before the new version is published.
            root = self.map.parent or self.map
            with root._lock:
                if update:
                    self.map.store.update(update)
                if self.remote is None:
                    self.map.changed(Delta(tuple(added), tuple(removed)))
                    return
                try:
                    sent = self._send_pending()
                except EvidenceMapError as exc:
                    self.map.changed()  # what was derived from the engine is read again from it as it is
                    raise EngineNotUpdated(
                        f"Change {record.number} is recorded in the map's journal, but the SPARQL engine did not apply "
                        f"it: {exc.message} It is sent to the engine again before the next change, or when the "
                        "server starts; until then the engine (and so every page and /sparql) shows the map without "
                        "it.", hint="Do not send the change again: check the engine (docs/deploy.md, \"A living map "
                                    "on the engine\").") from None
                self.map.changed(self._delta(sent))

    # -- a remote engine ------------------------------------------------------------------------------------------

    def catch_up(self, *, verify: bool = False) -> list[Record]:
        """Send the remote engine every journalled change it lacks (those after the last change number its changes
        graph holds), one update each, in order; the changes sent. With ``verify`` (at start), the engine must
        then hold as many quads in the map's graphs as the local copy, else every change is sent again.

        :raises DataError: when the engine still holds another map after every change was sent again.
        """
        assert self.remote is not None
        with self.lock:
            root = self.map.parent or self.map
            with root._lock:
                self.engine_at = start = self._engine_last()
                try:
                    sent = self._send_pending()
                    if verify and self.remote.size() != self._local_size():
                        self.engine_at = start = 0
                        sent = self._send_pending()
                        held, expected = self.remote.size(), self._local_size()
                        if held != expected:
                            raise DataError(
                                f"The SPARQL engine holds {held:,} quads in map {self.slug!r}'s graphs; its files "
                                f"and journal make {expected:,}, so it does not hold this map.",
                                hint="Push the map's files again (evidencemap push --data DIR): the server then "
                                     "sends the journal's changes.")
                except EvidenceMapError:
                    if self.engine_at > start:
                        self.map.changed()  # some changes reached the engine: what was read from it is read again
                    raise
                if sent:
                    self.map.changed(self._delta(sent))
                return sent

    def _engine_last(self) -> int:
        rows = self.map.select(LAST_CHANGE, {"graph": ox.NamedNode(self.map.iri(self.changes_graph()))})
        last = rows[0].get("last") if rows else None
        return int(last) if isinstance(last, int | str) and str(last).isdigit() else 0

    def _send_pending(self) -> list[Record]:
        """Send the journal's changes after :attr:`engine_at` to the engine, one SPARQL Update each, in order."""
        assert self.remote is not None
        base = self.map.settings.base_iri
        sent = []
        for record in self.journal.records[self.engine_at:]:
            text = update_text(record.added_quads(base), record.removed_quads(base))
            if text:
                self.remote.update(text)
            self.engine_at = record.number
            sent.append(record)
        return sent

    def _local_size(self) -> int:
        """Quads of the local copy in the graphs the engine's view of this map covers (counted by the store)."""
        assert self.remote is not None
        store = self.map.store
        graphs = list(self.remote.scope) if self.remote.scope is not None else [
            g for g in store.named_graphs() if isinstance(g, ox.NamedNode) and g.value.startswith(self.remote.root)]
        if not graphs:
            return 0
        counted = EvidenceMap(store=store, settings=self.map.settings).solutions(
            LOCAL_COUNT, Values.column("g", graphs))
        number = next(iter(counted))[0]
        return int(number.value) if isinstance(number, ox.Literal) else 0

    def _delta(self, records: list[Record]) -> Delta | None:
        """The change ``records`` make together, for the derived structures to follow; None when it is too large to
        be worth following (they are built again)."""
        base = self.map.settings.base_iri
        added: list[ox.Quad] = []
        removed: list[ox.Quad] = []
        for record in records:
            added.extend(record.added_quads(base))
            removed.extend(record.removed_quads(base))
            if len(added) + len(removed) > FOLLOW_AT_MOST:
                return None
        return Delta(tuple(added), tuple(removed))


def canonical_quads(evidence_map: EvidenceMap, quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """Quads read from the store (served IRIs) with canonical IRIs, as the journal keeps them."""
    return [rebased(q, evidence_map.canonical) for q in quads]
