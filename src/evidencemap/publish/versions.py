"""A living map at any version: its files plus the journal up to change N, as a store or as Turtle files that load
back into the same map (``evidencemap export --version N DIR``), so the git-friendly source of truth stays."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pyoxigraph as ox

from evidencemap.errors import NotFound
from evidencemap.graph.journal import Journal, replay
from evidencemap.graph.loading import build_store, expand_paths
from evidencemap.graph.validation import REVIEW_TEXT, review_texts
from evidencemap.namespaces import GRAPH

# The parts of a map written back as files, each named so that the loader puts it in the same graph again.
PARTS = {"data": "map.ttl", "claims": "claims.ttl", "vocabulary": "vocabulary.ttl", "changes": "changes.ttl"}


def journal_of(state: Path, slug: str) -> Journal:
    folder = state / slug
    if not (folder / "journal.log").exists():
        raise NotFound(f"No journal for map {slug!r} in {state}.", hint="Give the --state folder the server uses.")
    return Journal(folder)


def store_at_version(sources: list[Path], base_iri: str, journal: Journal, number: int) -> ox.Store:
    """The map's files (``sources``) with the journal's changes 1..``number`` applied (0: the files alone).

    :raises NotFound: for a version the journal does not reach.
    """
    if number < 0 or number > len(journal):
        raise NotFound(f"No version after change {number}: the map has {len(journal)} change(s).")
    store = build_store(sources, base_iri=base_iri)
    replay(store, journal.upto(number), base_iri)
    return store


def write_version(store: ox.Store, sources: list[Path], folder: Path) -> list[Path]:
    """The map's own graphs of ``store`` as Turtle files in ``folder`` (studies, findings and review in
    ``map.ttl``, claims, the concepts the map adds, the changes' PROV records), with the review's text beside
    them; the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for graph in store.named_graphs():
        if not isinstance(graph, ox.NamedNode) or not graph.value.startswith(GRAPH):
            continue
        slug, _, part = graph.value[len(GRAPH):].partition("/")
        if not slug or part not in PARTS:
            continue  # the core vocabulary (graph/vocabulary) comes with the package, not with the map
        triples = [ox.Triple(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(None, None, None,
                                                                                                 graph)]
        path = folder / PARTS[part]
        path.write_bytes(ox.serialize(triples, format=ox.RdfFormat.TURTLE) or b"")
        written.append(path)
    for text in review_texts(expand_paths(sources)):
        shutil.copyfile(text, folder / REVIEW_TEXT)
        written.append(folder / REVIEW_TEXT)
        break
    return written


def version_dump(sources: list[Path], base_iri: str, journal: Journal, number: int, folder: Path) -> Path:
    """The N-Quads file of the map after change ``number``, written once into ``folder`` (a version never changes,
    and rebuilding one means loading the map's files again) and reused after.

    :raises NotFound: for a version the journal does not reach.
    """
    path = folder / f"{number}.nq"
    if not path.exists():
        store = store_at_version(sources, base_iri, journal, number)
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f"{number}.nq.{os.getpid()}.{threading.get_ident()}.partial"
        store.dump(partial, format=ox.RdfFormat.N_QUADS)
        os.replace(partial, path)
    return path
