"""Files -> one pyoxigraph store, each map's files in that map's named graphs, every finding's statement materialised.

A *map* is what one path given to ``--data`` names (a folder, or a file): its files go to the named graphs of the map,
``graph/{slug}/data``, ``graph/{slug}/claims``, ``graph/{slug}/vocabulary`` (concepts the map adds) and
``graph/{slug}/inferred`` (:func:`evidencemap.namespaces.map_graph`); the core vocabulary stays in
``graph/vocabulary``. A map's slug is that of its edition record, the ``dcat:Dataset`` under ``data/map/{slug}`` that
``prov:wasDerivedFrom`` its review; a path without an edition record adds to the map named before it (or, first
given, to the map named after it), and data with no edition record at all is one map named after its folder or file.
Two maps with one slug are an error.

A load either succeeds whole or raises :class:`DataError`; a caller never sees a half-loaded store, because the
store is built fresh and only handed over at the end.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
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

DCAT = "http://www.w3.org/ns/dcat#"
EDITION_SPACE = ns.DATA + "map/"  # an edition record is data/map/{slug}

# A finding asserts its statement (see evm:Finding in the ontology); this is the whole of the "inference". The
# statements of every graph's findings go to one inferred graph (a store holding one map, as the benchmarks build);
# a map's own are written by :func:`materialise_findings`.
MATERIALISE_FINDINGS = ns.sparql_prefixes(("rdf", "evm")) + f"""
INSERT {{ GRAPH <{ns.GRAPH_INFERRED}> {{ ?s ?p ?o }} }}
WHERE {{ GRAPH ?g {{ ?finding a evm:Finding ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o . }} }}
"""

MATERIALISE_MAP_FINDINGS = ns.sparql_prefixes(("rdf", "evm")) + """
INSERT { GRAPH <%(inferred)s> { ?s ?p ?o } }
WHERE { VALUES ?g { %(graphs)s }
        GRAPH ?g { ?finding a evm:Finding ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o . } }
"""


@dataclass(frozen=True)
class MapFiles:
    """The files of one map, and the slug naming its graphs and IRI space."""

    slug: str
    files: tuple[Path, ...]

    def graph(self, path: Path) -> str:
        """The named graph (canonical IRI) a file of this map goes to."""
        return ns.map_graph(self.slug, part_of(path))

    @property
    def graphs(self) -> tuple[str, ...]:
        """The named graphs of this map (canonical IRIs), whether or not each holds anything."""
        return map_graphs(self.slug)


def map_graphs(slug: str) -> tuple[str, ...]:
    """The named graphs (canonical IRIs) of the map ``slug``: its data, claims, own vocabulary, inferred statements
    and the record of its changes.

    >>> [g.rsplit("/", 1)[-1] for g in map_graphs("dufour-2025")]
    ['data', 'claims', 'vocabulary', 'inferred', 'changes']
    """
    return tuple(ns.map_graph(slug, part) for part in ns.MAP_GRAPH_PARTS)


def map_slugs_of(graph_names: Iterable[str], base: str = ns.CANONICAL_BASE) -> list[str]:
    """The slugs of the maps a store holds, read from its named graphs (``{base}graph/{slug}/data`` ...), sorted.

    >>> map_slugs_of(["https://w3id.org/evidencemap/graph/vocabulary",
    ...               "https://w3id.org/evidencemap/graph/b-2026/data", "https://w3id.org/evidencemap/graph/a/claims"])
    ['a', 'b-2026']
    """
    root = IriSpace(base).served(ns.GRAPH)
    slugs = set()
    for name in graph_names:
        if name.startswith(root):
            parts = name[len(root):].split("/")
            if len(parts) == 2 and parts[1] in ns.MAP_GRAPH_PARTS:
                slugs.add(parts[0])
    return sorted(slugs)


def part_of(path: Path) -> str:
    """Which part of its map a file is: its own vocabulary (``vocabulary.*``), its claims (``claims.*``) or data."""
    if path.stem == "vocabulary":
        return "vocabulary"
    return "claims" if path.stem == "claims" else "data"


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


def editions_in(path: Path) -> set[str]:
    """The slugs of the edition records (``data/map/{slug}``, a ``dcat:Dataset`` derived from a review) in one file.

    Only a file that spells the DCAT namespace can hold one, so the others are not parsed twice.
    """
    try:
        if DCAT.encode() not in path.read_bytes():
            return set()
        quads = list(ox.parse(path=path, format=RDF_EXTENSIONS[path.suffix.lower()]))
    except SyntaxError as exc:
        raise DataError(f"{path}: not valid {RDF_EXTENSIONS[path.suffix.lower()].name}: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read: {exc}") from None
    datasets = {q.subject.value for q in quads if q.predicate.value == ns.RDF + "type" and q.object.value == DCAT
                + "Dataset" and isinstance(q.subject, ox.NamedNode)}
    derived = {q.subject.value for q in quads if q.predicate.value == ns.PROV + "wasDerivedFrom"}
    return {ns.last_segment(iri) for iri in datasets & derived if iri.startswith(EDITION_SPACE)}


def _fallback_slug(path: Path) -> str:
    """The slug of a map without an edition record: its folder's (or file's) name, in IRI-safe characters."""
    name = path.resolve().name if path.is_dir() else path.stem
    return re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-") or "map"


def find_maps(paths: Sequence[Path]) -> list[MapFiles]:
    """The maps the given paths make (see the module's docstring), in the order given.

    :raises DataError: for a missing or unreadable path, a path holding two edition records, or two maps with one slug.
    """
    named: list[tuple[str | None, Path, list[Path]]] = []
    for path in paths:
        files = expand_paths([path])
        slugs = set().union(*(editions_in(f) for f in files))
        if len(slugs) > 1:
            raise DataError(f"{str(path)!r} holds the edition records of {len(slugs)} maps "
                            f"({', '.join(sorted(slugs))}).",
                            hint="Give each map its own folder, and each folder to --data.")
        named.append((slugs.pop() if slugs else None, path, files))
    if all(slug is None for slug, _, _ in named):
        return [MapFiles(_fallback_slug(paths[0]), tuple(f for _, _, files in named for f in files))] if named else []
    maps: list[tuple[str, list[Path], list[Path]]] = []  # slug, paths given, files
    waiting: list[Path] = []  # files given before the first map
    for slug, path, files in named:
        if slug is None:
            (maps[-1][2] if maps else waiting).extend(files)
            continue
        clash = next((m for m in maps if m[0] == slug), None)
        if clash is not None:
            raise DataError(f"Two maps have the slug {slug!r}: {str(clash[1][0])!r} and {str(path)!r}.",
                            hint="A map's slug (the last segment of its edition record, data/map/{slug}) names its "
                                 "IRIs and graphs: give each map its own.")
        maps.append((slug, [path], [*waiting, *files]))
        waiting = []
    return [MapFiles(slug, tuple(files)) for slug, _, files in maps]


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
    """A new in-memory store holding the core vocabulary and the maps ``data`` names (the bundled map when empty),
    each path a map or a part of one (:func:`find_maps`).

    :raises DataError: when any file is missing or invalid, or two maps share a slug; no store is returned then.
    """
    return build_maps_store(find_maps(list(data) or [bundled_map_dir()]), base_iri=base_iri,
                            include_vocabulary=include_vocabulary)


def build_maps_store(
    maps: Sequence[MapFiles], *, base_iri: str = ns.CANONICAL_BASE, include_vocabulary: bool = True
) -> ox.Store:
    """A new in-memory store holding the core vocabulary and ``maps``, each in its own named graphs."""
    store = ox.Store()
    if include_vocabulary:
        vocabulary_graph = rebase(ns.GRAPH_VOCABULARY, base_iri)
        for path in vocabulary_files():
            load_file(store, path, vocabulary_graph, base_iri)
    for one in maps:
        for path in one.files:
            load_file(store, path, rebase(one.graph(path), base_iri), base_iri)
        materialise_findings(store, one.slug, base_iri)
    return store


def build_vocabulary_store() -> ox.Store:
    """A new in-memory store holding only the vocabulary (ontology, facets, concept schemes), with canonical IRIs."""
    store = ox.Store()
    for path in vocabulary_files():
        load_file(store, path, ns.GRAPH_VOCABULARY)
    return store


def materialise_findings(store: ox.Store, slug: str, base_iri: str = ns.CANONICAL_BASE) -> None:
    """Write the statement of every finding of the map ``slug`` into its inferred graph (a write of the load, before
    the map is handed over: the one place the store is updated, so not through the read gate)."""
    sources = " ".join(f"<{ns.map_graph(slug, part)}>" for part in ("data", "claims", "vocabulary"))
    text = MATERIALISE_MAP_FINDINGS % {"inferred": ns.map_graph(slug, "inferred"), "graphs": sources}
    store.update(rebase(text, base_iri))


def rebase(text: str, base_iri: str) -> str:
    """``text`` with the canonical base replaced by ``base_iri`` (delegates to :meth:`IriSpace.rebase_text`)."""
    return IriSpace(base_iri).rebase_text(text)
