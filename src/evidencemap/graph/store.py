"""The loaded evidence map: the one gate through which everything reads the graph.

Everything above this layer speaks SPARQL to :meth:`EvidenceMap.query` (or its typed forms :meth:`select`,
:meth:`construct`, :meth:`ask`) and reads quads with :meth:`quads`; the store behind the gate is a
:class:`~evidencemap.graph.engine.QueryEngine` (the embedded pyoxigraph store today). Internal queries are written
with the canonical IRIs and rebased here (:class:`~evidencemap.graph.iris.IriSpace`); bound terms go into a VALUES
block (:mod:`evidencemap.graph.values`). Structures derived from the graph are kept here too (:meth:`derive`), keyed
by the map's :attr:`version`, which a write bumps with :meth:`changed`; a structure that can follow a change (the
facet index) is carried to the new version by its ``follow`` function instead of being built again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.errors import NotFound
from evidencemap.graph.engine import (
    EmbeddedEngine,
    GraphName,
    QueryEngine,
    QueryResult,
    ScopableEngine,
    Solutions,
    Subject,
)
from evidencemap.graph.iris import IriSpace
from evidencemap.graph.loading import build_store, expand_paths, find_maps, map_graphs, map_slugs_of
from evidencemap.graph.persistence import CacheEntry, StoreCache, default_root
from evidencemap.graph.terms import Binding, to_python
from evidencemap.graph.values import Values, with_values
from evidencemap.resources import bundled_map_dir, vocabulary_files
from evidencemap.settings import Settings

__all__ = ["Binding", "Delta", "EvidenceMap", "Row", "Solutions", "Values", "to_python", "with_values"]

log = logging.getLogger("evidencemap.store")

# A row's values are str, int, float or bool (PythonValue); typed Any so that callers index the columns they know
# without a cast at every use.
Row = dict[str, Any]
Built = TypeVar("Built")


@dataclass(frozen=True)
class Delta:
    """What one write changed in the store: the quads it removed and added, with the IRIs the map is served under
    (graph/writes.py makes it from the journal's record). Derived structures that can follow a change read it."""

    added: tuple[ox.Quad, ...] = ()
    removed: tuple[ox.Quad, ...] = ()

    @property
    def quads(self) -> tuple[ox.Quad, ...]:
        return self.removed + self.added


Follow = Callable[[Any, Delta], Any]


@dataclass
class EvidenceMap:
    """A validated-on-demand, queryable evidence map."""

    store: ox.Store  # the embedded store: in memory, or on disk in the store cache (``cache``)
    settings: Settings
    sources: list[Path] = field(default_factory=list)
    loaded_at: float = field(default_factory=time.time)
    load_seconds: float = 0.0
    query_engine: QueryEngine | None = field(default=None, repr=False, compare=False)  # the embedded store's if None
    # The store cache's entry the store was opened from (graph/persistence.py); None for a store in memory.
    cache: CacheEntry | None = field(default=None, repr=False, compare=False)
    version: int = field(default=0, compare=False)
    # A scoped view (:meth:`scoped`): the map it is a view of, and the slug of the one map it shows.
    parent: EvidenceMap | None = field(default=None, repr=False, compare=False)
    slug: str | None = None
    _views: dict[str, EvidenceMap] = field(default_factory=dict, repr=False, compare=False)
    _derived: dict[str, tuple[int, object]] = field(default_factory=dict, repr=False, compare=False)
    # How a derived structure follows a change (:meth:`derive`'s ``follow``), by key.
    _followers: dict[str, Follow] = field(default_factory=dict, repr=False, compare=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.query_engine is None:
            self.query_engine = EmbeddedEngine(self.store)

    @property
    def engine(self) -> QueryEngine:
        """The engine every read goes to."""
        assert self.query_engine is not None  # set by __post_init__
        return self.query_engine

    @classmethod
    def load(cls, settings: Settings | None = None, *, persistent: bool = False) -> EvidenceMap:
        """Build the map named by ``settings.data`` (the bundled map when empty).

        ``persistent`` (``evidencemap serve`` asks for it when ``settings.persistent_store``): open the map's
        on-disk store in the store cache, built from the files only when the cache holds none for their content
        (:meth:`open_persistent`).

        :raises DataError: when a file is missing or not valid RDF.
        """
        settings = settings or Settings()
        started = time.perf_counter()
        if persistent:
            return cls.open_persistent(settings)
        paths = settings.data or [bundled_map_dir()]
        sources = expand_paths(paths)
        store = build_store(paths, base_iri=settings.base_iri)  # each path a map, or a part of one
        return cls(store=store, settings=settings, sources=sources, load_seconds=time.perf_counter() - started)

    @classmethod
    def open_persistent(cls, settings: Settings) -> EvidenceMap:
        """The map of ``settings`` from its on-disk store in ``settings.store_cache`` (keyed by the content of its
        files, the vocabulary, the base IRI and the versions: :mod:`evidencemap.graph.persistence`), written there
        from the files first when the cache holds none for them.

        :raises DataError: when a file is missing or not valid RDF (nothing is kept in the cache then).
        """
        started = time.perf_counter()
        paths = settings.data or [bundled_map_dir()]
        sources = expand_paths(paths)
        cache = StoreCache(Path(settings.store_cache) if settings.store_cache else default_root(),
                           settings.store_cache_keep)
        key = cache.key(sources, vocabulary_files(), settings.base_iri)
        store, entry, _ = cache.open(key, lambda: build_store(paths, base_iri=settings.base_iri))
        return cls(store=store, settings=settings, sources=sources, load_seconds=time.perf_counter() - started,
                   cache=entry)

    @property
    def store_path(self) -> Path | None:
        """The folder of the on-disk store (None for a store in memory), which other processes open read-only."""
        return self.cache.store_path if self.cache is not None else None

    # -- IRIs ---------------------------------------------------------------------------------------------------

    @property
    def iris(self) -> IriSpace:
        return IriSpace(self.settings.base_iri)

    def iri(self, canonical: str) -> str:
        """An IRI written under the canonical base, as it is in this map (:meth:`IriSpace.served`)."""
        return self.iris.served(canonical)

    def canonical(self, iri: str) -> str:
        """The canonical form of an IRI of this map (:meth:`IriSpace.canonical`)."""
        return self.iris.canonical(iri)

    # -- several maps in one store ------------------------------------------------------------------------------

    def map_slugs(self) -> list[str]:
        """The slugs of the maps this store holds (a view: its own), read from the named graphs."""
        if self.slug is not None:
            return [self.slug]
        return map_slugs_of(self.named_graphs(), self.settings.base_iri)

    def scoped(self, slug: str) -> EvidenceMap:
        """The map ``slug`` alone: a view over the same store whose queries see the core vocabulary and that map's
        graphs only (its default graph is their union) and whose :meth:`quads` read only them, so that every model
        and view function answers for that map. Its derived structures are its own, built once per version of this
        map (:meth:`changed` here drops them). One view per slug, made on first use.

        :raises NotFound: for a slug no map of this store has.
        """
        if self.parent is not None:
            return self.parent.scoped(slug)
        with self._lock:
            view = self._views.get(slug)
            if view is not None:
                return view
            if slug not in self.map_slugs():
                raise NotFound(f"No map {slug!r} here.", allowed=self.map_slugs())
            if not isinstance(self.engine, ScopableEngine):
                if self.map_slugs() == [slug]:
                    return self  # the only map: the whole store is its view
                raise TypeError(f"{type(self.engine).__name__} cannot show one map of several")
            graphs = [ox.NamedNode(self.iri(g)) for g in (ns.GRAPH_VOCABULARY, *map_graphs(slug))]
            own = next((m.files for m in find_maps(self.settings.data or [bundled_map_dir()]) if m.slug == slug), ())
            # The view shares this map's lock: its structures are built, and follow a change, under the lock a
            # write holds from its store update to :meth:`changed`, so none is built from half a change.
            view = EvidenceMap(store=self.store, settings=self.settings, sources=[p for p in self.sources if p in own],
                               loaded_at=self.loaded_at, load_seconds=self.load_seconds,
                               query_engine=self.engine.scoped(graphs), parent=self, slug=slug, _lock=self._lock)
            self._views[slug] = view
            return view

    # -- derived state ------------------------------------------------------------------------------------------

    @property
    def current_version(self) -> int:
        """The version derived structures are keyed by: the map's own, or a view's parent's."""
        return self.parent.current_version if self.parent is not None else self.version

    def derive(self, key: str, build: Callable[[], Built],
               follow: Callable[[Built, Delta], Built | None] | None = None) -> Built:
        """The structure ``key`` derived from the map as it is now: built by ``build`` on first use, and again after
        :meth:`changed`. Built under a lock, so concurrent first uses build it once.

        ``follow(value, delta)``, when given, makes the structure of the next version from this version's and the
        change (:meth:`changed` calls it, after the store holds the change): a new value (the old one is left as it
        was, for readers that still hold it), or None to build it again on its next use."""
        with self._lock:
            if follow is not None:
                self._followers[key] = follow
            version = self.current_version
            found = self._derived.get(key)
            if found is not None and found[0] == version:
                return cast(Built, found[1])
            value = build()
            self._derived[key] = (version, value)
            return value

    def forget(self, key: str) -> None:
        """Drop one derived structure (the next use rebuilds it)."""
        with self._lock:
            self._derived.pop(key, None)

    def changed(self, delta: Delta | None = None) -> None:
        """Record a change to the graph (already in the store): every derived structure (every view's too) is
        rebuilt on its next use, except those that follow ``delta`` (:meth:`derive`'s ``follow``), which are made
        for the new version here. Under the map's lock, so a reader gets the structures of one version: the old
        ones until the new version is published with them, then the new ones.

        Without ``delta`` (a journal replayed at start, a change not described) nothing follows."""
        if self.parent is not None:
            self.parent.changed(delta)
            return
        with self._lock:
            if self.cache is not None and self.version == 0:
                self.cache.mark_modified()  # the on-disk store no longer holds only its files (persistence.py)
            version = self.version
            followed = {id(m): m._followed(version, delta) for m in (self, *self._views.values())}
            self.version = version + 1
            for evidence_map in (self, *self._views.values()):
                evidence_map._derived = {key: (version + 1, value)
                                         for key, value in followed[id(evidence_map)].items()}

    def _followed(self, version: int, delta: Delta | None) -> dict[str, object]:
        """This map's structures of ``version`` that follow ``delta``, made for the next version (under the lock)."""
        if delta is None:
            return {}
        out: dict[str, object] = {}
        for key, (built_at, value) in self._derived.items():
            follow = self._followers.get(key)
            if follow is None or built_at != version:
                continue
            try:
                new = follow(value, delta)
            except Exception:  # the store already holds the change: the version must move on whatever happens here
                log.exception("%s could not follow a change; it is built again on its next use", key)
                continue
            if new is not None:
                out[key] = new
        return out

    def derive_saved(self, key: str, build: Callable[[], Built],
                     follow: Callable[[Built, Delta], Built | None] | None = None) -> Built:
        """:meth:`derive` (with its ``follow``), also kept in the store cache's entry (:meth:`saved`, :meth:`save`):
        the next start reads it instead of building it again."""

        def saved_or_built() -> Built:
            found = self.saved(key)
            if found is not None:
                return cast(Built, found)
            value = build()
            self.save(key, value)
            return value

        return self.derive(key, saved_or_built, follow)

    def saved(self, key: str) -> object | None:
        """The structure ``key`` kept in the store cache for this map's files; None when there is none, when the
        map is in memory, or when it has changed since it was opened."""
        if self.cache is None or self.version != 0:
            return None
        return self.cache.saved(key)

    def save(self, key: str, value: object) -> None:
        """Keep ``value`` in the store cache for the next start (nothing when the map is in memory or changed)."""
        if self.cache is not None and self.version == 0:
            self.cache.save(key, value)

    # -- queries ------------------------------------------------------------------------------------------------

    def query(
        self, sparql: str, bindings: Mapping[str, Binding] | Values | None = None, *, union: bool = True
    ) -> QueryResult:
        """Run a query written with canonical IRIs, with ``bindings`` for some of its variables (never user text).

        The bound terms go into a VALUES block opening the query's WHERE group (see :mod:`evidencemap.graph.values`).
        A query where a VALUES block does not fit (no WHERE keyword, a blank node value) falls back to the engine's
        substitutions for a single row; both give the same solutions.

        :returns: a bool for ASK, a list of triples for CONSTRUCT/DESCRIBE, :class:`Solutions` for SELECT.
        """
        text = self.iris.rebase_text(sparql)
        if not bindings:
            return self.engine.query(text, union=union)
        table = bindings if isinstance(bindings, Values) else Values.row(bindings)
        bound = with_values(text, table)
        if bound is not None:
            try:
                return self.engine.query(bound, union=union)
            except SyntaxError:
                pass  # the original text below then reports its own error, or runs with substitutions
        if len(table.rows) != 1:
            raise ValueError("Several rows of values need a query with a WHERE group.")
        row = dict(zip(table.variables, table.rows[0], strict=True))
        return self.engine.query(text, union=union, substitutions=row)

    def solutions(self, sparql: str, bindings: Mapping[str, Binding] | Values | None = None) -> Solutions:
        """The solutions of a SELECT query, as terms."""
        result = self.query(sparql, bindings)
        if not isinstance(result, Solutions):
            raise TypeError("not a SELECT query")
        return result

    def select(self, sparql: str, bindings: Mapping[str, Binding] | Values | None = None) -> list[Row]:
        """SELECT solutions as dicts of Python values (IRIs as str, literals converted, unbound omitted)."""
        solutions = self.solutions(sparql, bindings)
        names = [v.value for v in solutions.variables]
        # A solution iterates over its values in the order of the variables (None when unbound).
        return [
            {name: to_python(term) for name, term in zip(names, solution, strict=True) if term is not None}
            for solution in solutions
        ]

    def construct(self, sparql: str, bindings: Mapping[str, Binding] | Values | None = None) -> list[ox.Triple]:
        """The triples of a CONSTRUCT or DESCRIBE query."""
        result = self.query(sparql, bindings)
        if not isinstance(result, list) or isinstance(result, Solutions):
            raise TypeError("not a CONSTRUCT or DESCRIBE query")
        return result

    def ask(self, sparql: str, bindings: Mapping[str, Binding] | Values | None = None) -> bool:
        result = self.query(sparql, bindings)
        if not isinstance(result, bool):
            raise TypeError("not an ASK query")
        return result

    def quads(
        self,
        subject: Subject | None = None,
        predicate: ox.NamedNode | None = None,
        obj: Binding | None = None,
        graph: GraphName | None = None,
    ) -> list[ox.Quad]:
        """The quads matching a pattern of the map's own terms (None matches anything)."""
        return self.engine.quads(subject, predicate, obj, graph)

    def triple_count(self, graph: str | None = None) -> int:
        """Triples in one named graph (canonical IRI) or in the whole store."""
        if graph is None:
            return self.engine.size()
        return len(self.quads(graph=ox.NamedNode(self.iri(graph))))

    def named_graphs(self) -> Iterator[str]:
        for g in self.engine.named_graphs():
            if isinstance(g, ox.NamedNode):
                yield g.value
