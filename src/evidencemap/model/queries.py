"""Named queries: the competency questions kept as SPARQL files.

The core queries (``api/queries/*.rq``) use only the core vocabulary and answer for any map. A map's own questions
(those that bind a concept of its topic, or name a section of its review) live in its folder, ``queries/*.rq`` beside
its data (``maps/dufour-2025/queries``); the loader never reads them as RDF (it takes RDF extensions only). A map
offers the core queries plus its own (:func:`named_queries`); a server of several maps offers the core queries plus
every map's, each labelled with its map. A query whose default binds a concept the map lacks is not offered for it.

Each file starts with a header of ``# key: value`` lines: ``title``, ``description`` and any number of
``param: ?var facet=<facet name> default=<slug>`` or ``param: ?var literal=integer default=<n>``. A parameter is a
variable the query projects; a value given for it is validated (against the facet's concepts, or as an integer) and
bound as a substitution. Run without a value, the variable stays free and the query answers for every value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.errors import EvidenceMapError, InvalidParameter, NotFound
from evidencemap.graph.loading import expand_paths, find_maps
from evidencemap.graph.store import Binding, EvidenceMap
from evidencemap.model.vocabulary import Vocabulary, vocabulary_of
from evidencemap.resources import bundled_map_dir, named_queries_dir

QUERIES_FOLDER = "queries"  # a map's own named queries: ``{map folder}/queries/*.rq``


@dataclass(frozen=True)
class Parameter:
    name: str
    facet: str | None = None
    literal: str | None = None
    default: str | None = None

    def bind(self, vocabulary: Vocabulary, value: str) -> Binding:
        """The term for ``value``.

        :raises InvalidParameter: when the value is not a concept of the facet, or not of the literal type.
        """
        if self.facet is not None:
            return ox.NamedNode(vocabulary.facet(self.facet).concept(value).iri)
        if self.literal == "integer":
            if not value.lstrip("-").isdigit():
                raise InvalidParameter(f"Parameter {self.name!r} takes an integer, not {value!r}.")
            return ox.Literal(value, datatype=ox.NamedNode(ns.XSD + "integer"))
        return ox.Literal(value)


@dataclass(frozen=True)
class NamedQuery:
    name: str
    title: str
    description: str
    text: str
    parameters: tuple[Parameter, ...] = field(default=())
    map: str | None = None  # the slug of the map whose folder holds the query; None for a core query

    @property
    def qualified_name(self) -> str:
        """``{map}/{name}`` for a map's query (a name two maps may share), the name for a core query."""
        return f"{self.map}/{self.name}" if self.map else self.name

    def bindings(
        self, vocabulary: Vocabulary, values: Mapping[str, str], *, defaults: bool = True
    ) -> dict[str, Binding]:
        """Validated substitutions for the given values (and the defaults of those not given, if ``defaults``).

        :raises InvalidParameter: for an unknown parameter or an invalid value.
        """
        known = {p.name for p in self.parameters}
        unknown = sorted(set(values) - known)
        if unknown:
            hint = f"Use one of: {', '.join(sorted(known))}." if known else "This query takes no parameters."
            raise InvalidParameter(f"Unknown parameter {unknown[0]!r} for query {self.name!r}.", hint=hint)
        out: dict[str, Binding] = {}
        for p in self.parameters:
            value = values.get(p.name) or (p.default if defaults else None)
            if value:
                out[p.name] = p.bind(vocabulary, value)
        return out


def parse_named_query(path: Path, map_slug: str | None = None) -> NamedQuery:
    header: dict[str, str] = {}
    params: list[Parameter] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        key, _, value = line.lstrip("# ").partition(":")
        key, value = key.strip(), value.strip()
        if key == "param":
            var, *options = value.split()
            opts = dict(o.split("=", 1) for o in options)
            params.append(Parameter(var.lstrip("?$"), opts.get("facet"), opts.get("literal"), opts.get("default")))
        else:
            header[key] = value
    return NamedQuery(
        name=path.stem,
        title=header.get("title", path.stem),
        description=header.get("description", ""),
        text=path.read_text(encoding="utf-8"),
        parameters=tuple(params),
        map=map_slug,
    )


@lru_cache(maxsize=32)
def load_named_queries(folder: Path | None = None, map_slug: str | None = None) -> tuple[NamedQuery, ...]:
    """The named queries of one ``folder`` (the core ``api/queries`` by default), sorted by name, labelled with
    ``map_slug`` (the map whose folder it is)."""
    root = folder or named_queries_dir()
    return tuple(parse_named_query(p, map_slug) for p in sorted(root.glob("*.rq")))


def map_query_folders(paths: Sequence[Path]) -> dict[str, list[Path]]:
    """The ``queries`` folders of each map the data ``paths`` make (slug to folders): the ``queries`` folder of each
    folder given (of a file given, the folder holding it) whose files belong to that map.

    :raises DataError: for paths that do not make maps (:func:`find_maps`).
    """
    out: dict[str, list[Path]] = {}
    for found in find_maps(paths):
        own = set(found.files)
        folders = out.setdefault(found.slug, [])
        for path in paths:
            folder = (path if path.is_dir() else path.parent) / QUERIES_FOLDER
            if folder.is_dir() and folder not in folders and own.intersection(expand_paths([path])):
                folders.append(folder)
    return out


def offers(query: NamedQuery, vocabulary: Vocabulary) -> bool:
    """Whether a map with ``vocabulary`` can offer ``query``: its defaults bind concepts the map has."""
    try:
        query.bindings(vocabulary, {}, defaults=True)
    except EvidenceMapError:
        return False
    return True


def named_queries(evidence_map: EvidenceMap | None = None) -> tuple[NamedQuery, ...]:
    """The named queries ``evidence_map`` offers: the core ones, then those of each map it serves (a scoped view:
    its own map's), leaving out those whose defaults bind a concept the map lacks. Without a map: the core queries
    and the bundled map's (the map served by default), unchecked. Built once per version of the map."""
    if evidence_map is None:
        return _bundled_queries()
    return evidence_map.derive("named-queries", lambda: _offered(evidence_map))


@lru_cache(maxsize=1)
def _bundled_queries() -> tuple[NamedQuery, ...]:
    folders = map_query_folders([bundled_map_dir()])
    return load_named_queries() + tuple(
        q for slug, found in folders.items() for folder in found for q in load_named_queries(folder, slug))


def _offered(evidence_map: EvidenceMap) -> tuple[NamedQuery, ...]:
    vocabulary = vocabulary_of(evidence_map)
    slugs = evidence_map.map_slugs()
    folders = map_query_folders(evidence_map.settings.data or [bundled_map_dir()])
    out = [q for q in load_named_queries() if offers(q, vocabulary)]
    for slug in slugs:
        own = [q for folder in folders.get(slug, []) for q in load_named_queries(folder, slug)]
        if own:
            its = vocabulary if len(slugs) == 1 else _vocabulary_of_map(evidence_map, slug, vocabulary)
            out += [q for q in own if offers(q, its)]
    return tuple(out)


def _vocabulary_of_map(evidence_map: EvidenceMap, slug: str, union: Vocabulary) -> Vocabulary:
    """The vocabulary of one map of several (the union's when the engine cannot show one map alone)."""
    try:
        return vocabulary_of(evidence_map.scoped(slug))
    except TypeError:
        return union


def get_named_query(name: str, evidence_map: EvidenceMap | None = None) -> NamedQuery:
    """The named query ``name`` (or ``{map}/{name}``) that ``evidence_map`` offers (:func:`named_queries`): the first
    of that name, core queries first.

    :raises NotFound: listing the names of the queries offered.
    """
    queries = named_queries(evidence_map)
    for q in queries:
        if name in {q.name, q.qualified_name}:
            return q
    raise NotFound(f"No named query {name!r}.", hint=f"Queries: {', '.join(q.qualified_name for q in queries)}.")


def run_named_query(
    evidence_map: EvidenceMap,
    vocabulary: Vocabulary,
    name: str,
    values: Mapping[str, str] | None = None,
    *,
    defaults: bool = True,
) -> list[dict[str, object]]:
    """Rows of a named SELECT query (one ``evidence_map`` offers) with its parameters bound (defaults for those not
    given)."""
    query = get_named_query(name, evidence_map)
    return evidence_map.select(query.text, query.bindings(vocabulary, values or {}, defaults=defaults))
