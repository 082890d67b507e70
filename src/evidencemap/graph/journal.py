"""The durable, append-only log of a living map's changes: with the map's files, the source of truth.

One record per change: its number, the map, the token's holder, the time, the message (why), the studies it touches
and the quads it added and removed (N-Quads, with canonical IRIs). A record is framed as::

    EVMJ <payload length> <sha256 of the payload>\\n<payload: UTF-8 JSON>\\n

and appended with one ``write`` followed by ``fsync`` before the change is acknowledged. A process killed in the
middle of an append (``kill -9``, a power cut) leaves a torn last record: its header, length or checksum does not
match, so :class:`Journal` drops it (truncates the file there) when it is opened again. Records before it are
whole, since each was fsynced before the next was written.

Replaying applies each record as a set difference then a set union (``DELETE DATA`` then ``INSERT DATA`` in one
SPARQL update, which pyoxigraph runs as one transaction): replaying a journal onto a store that already holds some
or all of its changes gives the same state as replaying it onto the map's files alone, because the last record
touching a quad decides whether it is there. So the map opens the same way whether its store was rebuilt from the
files or reopened from an on-disk copy.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyoxigraph as ox

from evidencemap.errors import DataError
from evidencemap.graph.iris import IriSpace

MAGIC = b"EVMJ "
JOURNAL_FILE = "journal.log"


@dataclass(frozen=True)
class Record:
    """One change, as the journal keeps it."""

    number: int
    map: str
    holder: str
    time: str  # ISO 8601, UTC
    message: str
    kind: str  # add, update, retract, facts, claims
    studies: tuple[str, ...]  # canonical IRIs of the studies the change adds, updates or retracts
    added: str  # N-Quads, canonical IRIs
    removed: str  # N-Quads, canonical IRIs
    version: str = ""  # the map edition's dcat:version after the change
    # For subscriptions: per study, the facet values before and after the change ({"before": {facet: [values]}}).
    affects: dict[str, dict[str, dict[str, list[str]]]] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        data = asdict(self)
        data["studies"] = list(self.studies)
        payload = json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return MAGIC + f"{len(payload)} {hashlib.sha256(payload).hexdigest()}\n".encode("ascii") + payload + b"\n"

    @classmethod
    def from_payload(cls, payload: bytes) -> Record:
        data = json.loads(payload)
        data["studies"] = tuple(data.get("studies", ()))
        return cls(**data)

    def added_quads(self, base_iri: str | None = None) -> list[ox.Quad]:
        return parse_quads(self.added, base_iri)

    def removed_quads(self, base_iri: str | None = None) -> list[ox.Quad]:
        return parse_quads(self.removed, base_iri)


def parse_quads(text: str, base_iri: str | None = None) -> list[ox.Quad]:
    """N-Quads text as quads, rebased to ``base_iri`` (the IRIs a map is served under) when given."""
    if not text:
        return []
    quads = list(ox.parse(text, format=ox.RdfFormat.N_QUADS))
    return quads if base_iri is None else [rebased(q, IriSpace(base_iri).served) for q in quads]


def rebased(quad: ox.Quad, convert: Callable[[str], str]) -> ox.Quad:
    """``quad`` with every IRI passed through ``convert``."""

    def iri(term: ox.NamedNode) -> ox.NamedNode:
        return ox.NamedNode(convert(term.value))

    subject = iri(quad.subject) if isinstance(quad.subject, ox.NamedNode) else quad.subject
    obj = iri(quad.object) if isinstance(quad.object, ox.NamedNode) else quad.object
    graph = iri(quad.graph_name) if isinstance(quad.graph_name, ox.NamedNode) else quad.graph_name
    return ox.Quad(subject, iri(quad.predicate), obj, graph)


def nquads(quads: Iterable[ox.Quad]) -> str:
    """Quads as sorted N-Quads text (sorted, so that a record is the same however its quads were gathered)."""
    return "".join(sorted(f"{q} .\n" for q in quads))


def scan(data: bytes) -> tuple[list[Record], int]:
    """The whole records at the start of ``data``, and the offset where the first torn or damaged one starts."""
    records: list[Record] = []
    offset = 0
    while offset < len(data):
        end = data.find(b"\n", offset)
        header = data[offset:end] if end >= 0 else b""
        if not header.startswith(MAGIC):
            break
        try:
            size_text, digest = header[len(MAGIC):].decode("ascii").split(" ")
            size = int(size_text)
        except ValueError:
            break
        payload = data[end + 1:end + 1 + size]
        if len(payload) != size or data[end + 1 + size:end + 2 + size] != b"\n":
            break
        if hashlib.sha256(payload).hexdigest() != digest:
            break
        try:
            records.append(Record.from_payload(payload))
        except (ValueError, TypeError):
            break
        offset = end + 2 + size
    return records, offset


class Journal:
    """The journal of one map in its state folder; opening it drops a torn last record."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / JOURNAL_FILE
        existed = self.path.exists()
        data = self.path.read_bytes() if existed else b""
        self.records, whole = scan(data)
        self.dropped_bytes = len(data) - whole
        if self.dropped_bytes:
            with self.path.open("r+b") as handle:
                handle.truncate(whole)
                handle.flush()
                os.fsync(handle.fileno())
        if not existed:
            self.path.touch()
            _fsync_folder(folder)
        numbers = [r.number for r in self.records]
        if numbers != list(range(1, len(numbers) + 1)):
            raise DataError(f"{self.path}: change numbers are not 1, 2, 3, ...: the journal was edited by hand.")

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records)

    @property
    def next_number(self) -> int:
        return len(self.records) + 1

    def append(self, record: Record) -> None:
        """Write ``record`` at the end and fsync it: once this returns, the change survives a crash."""
        if record.number != self.next_number:
            raise ValueError(f"record {record.number} appended where {self.next_number} was expected")
        with self.path.open("ab") as handle:
            handle.write(record.to_bytes())
            handle.flush()
            os.fsync(handle.fileno())
        self.records.append(record)

    def upto(self, number: int | None) -> list[Record]:
        """The records up to change ``number`` (all when None)."""
        return list(self.records) if number is None else [r for r in self.records if r.number <= number]


def _fsync_folder(folder: Path) -> None:
    """Make a new file's name durable (its directory entry), where the platform allows it."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def update_text(added: Iterable[ox.Quad], removed: Iterable[ox.Quad]) -> str:
    """One SPARQL update removing ``removed`` then adding ``added`` (ground quads: a blank node cannot be named
    in DELETE DATA and would be a fresh node in INSERT DATA, so changes carry none; see model/edits.py)."""
    parts = []
    gone = list(removed)
    new = list(added)
    for quads, verb in ((gone, "DELETE DATA"), (new, "INSERT DATA")):
        if quads:
            body = " ".join(_quad_pattern(q) for q in quads)
            parts.append(f"{verb} {{ {body} }}")
    return " ;\n".join(parts)


def _quad_pattern(quad: ox.Quad) -> str:
    for term in (quad.subject, quad.object):
        if isinstance(term, ox.BlankNode):
            raise ValueError("a change cannot hold blank nodes (they are named when the change is made)")
    triple = f"{quad.subject} {quad.predicate} {quad.object} ."
    if isinstance(quad.graph_name, ox.DefaultGraph):
        return triple
    return f"GRAPH {quad.graph_name} {{ {triple} }}"


def apply(store: ox.Store, added: Iterable[ox.Quad], removed: Iterable[ox.Quad]) -> None:
    """Apply one change to ``store`` as one transaction: a reader sees the store before it or after it."""
    text = update_text(added, removed)
    if text:
        store.update(text)


def replay(store: ox.Store, records: Iterable[Record], base_iri: str | None = None) -> int:
    """Apply ``records`` in order (idempotent, see the module's docstring); how many were applied."""
    count = 0
    for record in records:
        apply(store, record.added_quads(base_iri), record.removed_quads(base_iri))
        count += 1
    return count
