"""Files -> one pyoxigraph store, with every file in its named graph, and every finding's statement materialised.

A load either succeeds whole or raises :class:`DataError`; a caller never sees a half-loaded store, because the
store is built fresh and only handed over at the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar, cast

import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.errors import DataError
from evidencemap.graph.formats import RDF_FORMATS
from evidencemap.graph.iris import IriSpace
from evidencemap.resources import bundled_map_dir, vocabulary_files

T = TypeVar("T")

# The file extensions the loader reads, each with its RDF format (from the formats registry).
RDF_EXTENSIONS: dict[str, ox.RdfFormat] = {
    "." + extension: fmt.rdf_format for fmt in RDF_FORMATS if fmt.rdf_format for extension in fmt.extensions
}

# A finding asserts its statement (see evm:Finding in the ontology); this is the whole of the "inference".
MATERIALISE_FINDINGS = ns.sparql_prefixes(("rdf", "evm")) + f"""
INSERT {{ GRAPH <{ns.GRAPH_INFERRED}> {{ ?s ?p ?o }} }}
WHERE {{ GRAPH ?g {{ ?finding a evm:Finding ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o . }} }}
"""


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files named directly, plus the RDF files inside named folders (sorted).

    :raises DataError: for a path that does not exist or a file whose extension is not an RDF format.
    """
    files: list[Path] = []
    for path in paths:
        if not path.exists():
            raise DataError(f"Data file {str(path)!r} does not exist.", hint="Check the path given to --data.")
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in RDF_EXTENSIONS and p.is_file())
            if not found:
                raise DataError(f"Folder {str(path)!r} holds no RDF files ({', '.join(sorted(RDF_EXTENSIONS))}).")
            files.extend(found)
        elif path.suffix.lower() not in RDF_EXTENSIONS:
            raise DataError(
                f"Cannot tell the RDF format of {str(path)!r} from its extension.",
                hint=f"Use one of: {', '.join(sorted(RDF_EXTENSIONS))}.",
            )
        else:
            files.append(path)
    return files


def graph_for(path: Path) -> str:
    """The named graph a map file goes to: its own vocabulary (concepts a map adds) to the vocabulary graph, claims
    files to the claims graph, the rest to the data graph."""
    if path.stem == "vocabulary":
        return ns.GRAPH_VOCABULARY
    return ns.GRAPH_CLAIMS if path.stem == "claims" else ns.GRAPH_DATA


def _served(term: T, space: IriSpace) -> T:
    """``term`` rebased when it is an IRI (it stays an IRI), else unchanged."""
    return cast(T, ox.NamedNode(space.served(term.value))) if isinstance(term, ox.NamedNode) else term


def _rebased(quads: Iterator[ox.Quad], graph: ox.NamedNode | None, base: str) -> Iterator[ox.Quad]:
    """Quads with canonical IRIs rewritten to ``base``; ``graph`` (already rebased) replaces the file's graph."""
    space = IriSpace(base)
    for quad in quads:
        yield ox.Quad(
            _served(quad.subject, space),
            _served(quad.predicate, space),
            _served(quad.object, space),
            graph if graph is not None else _served(quad.graph_name, space),
        )


def load_file(store: ox.Store, path: Path, graph: str | None, base_iri: str = ns.CANONICAL_BASE) -> None:
    """Parse one file into ``store`` (into ``graph``, or the file's own graphs for TriG / N-Quads).

    :raises DataError: with the parser's line and column when the file is not valid RDF.
    """
    fmt = RDF_EXTENSIONS[path.suffix.lower()]
    target = None if fmt.supports_datasets or graph is None else ox.NamedNode(graph)
    try:
        if base_iri == ns.CANONICAL_BASE:
            store.load(path=path, format=fmt, to_graph=target)
        else:
            store.extend(_rebased(ox.parse(path=path, format=fmt), target, base_iri))
    except SyntaxError as exc:
        raise DataError(f"{path}: not valid {fmt.name}: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read: {exc}") from None


def build_store(
    data: Sequence[Path] = (),
    *,
    base_iri: str = ns.CANONICAL_BASE,
    include_vocabulary: bool = True,
) -> ox.Store:
    """A new in-memory store holding the vocabulary and the map (the bundled map when ``data`` is empty).

    :raises DataError: when any file is missing or invalid; no store is returned then.
    """
    files = expand_paths(list(data) or [bundled_map_dir()])
    store = ox.Store()
    if include_vocabulary:
        vocabulary_graph = rebase(ns.GRAPH_VOCABULARY, base_iri)
        for path in vocabulary_files():
            load_file(store, path, vocabulary_graph, base_iri)
    for path in files:
        load_file(store, path, rebase(graph_for(path), base_iri), base_iri)
    materialise_findings(store, base_iri)
    return store


def build_vocabulary_store() -> ox.Store:
    """A new in-memory store holding only the vocabulary (ontology, facets, concept schemes), with canonical IRIs."""
    store = ox.Store()
    for path in vocabulary_files():
        load_file(store, path, ns.GRAPH_VOCABULARY)
    return store


def materialise_findings(store: ox.Store, base_iri: str = ns.CANONICAL_BASE) -> None:
    """Write every finding's statement into the inferred graph (a write of the load, before the map is handed over:
    the one place the store is updated, so not through the read gate)."""
    store.update(rebase(MATERIALISE_FINDINGS, base_iri))


def rebase(text: str, base_iri: str) -> str:
    """``text`` with the canonical base replaced by ``base_iri`` (delegates to :meth:`IriSpace.rebase_text`)."""
    return IriSpace(base_iri).rebase_text(text)
