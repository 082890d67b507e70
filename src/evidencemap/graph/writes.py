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
from evidencemap.errors import DataError
from evidencemap.graph.journal import Journal, Record, rebased, replay, update_text
from evidencemap.graph.store import Delta, EvidenceMap
from evidencemap.graph.tokens import TokenStore

DCAT = "http://www.w3.org/ns/dcat#"
EDITION_QUERY = ns.sparql_prefixes(("prov",)) + f"""
SELECT ?edition ?version ?graph WHERE {{
  GRAPH ?graph {{ ?edition a <{DCAT}Dataset> ; prov:wasDerivedFrom ?review .
                 OPTIONAL {{ ?edition <{DCAT}version> ?version }} }}
}} ORDER BY ?edition LIMIT 1
"""
STUDY_GRAPH = ns.sparql_prefixes(("evm",)) + "SELECT ?graph WHERE { GRAPH ?graph { ?s a evm:IncludedStudy } } LIMIT 1"


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
        if replay(evidence_map.store, self.journal, evidence_map.settings.base_iri):
            evidence_map.changed()

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
        """Journal ``record`` (fsynced), apply it to the store in one transaction, then drop the derived caches. The
        caller holds :attr:`lock` from its checks to here."""
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
                self.map.changed(Delta(tuple(added), tuple(removed)))


def canonical_quads(evidence_map: EvidenceMap, quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """Quads read from the store (served IRIs) with canonical IRIs, as the journal keeps them."""
    return [rebased(q, evidence_map.canonical) for q in quads]
