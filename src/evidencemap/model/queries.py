"""Named queries: the competency questions kept as SPARQL files in ``api/queries/*.rq``.

Each file starts with a header of ``# key: value`` lines: ``title``, ``description`` and any number of
``param: ?var facet=<facet name> default=<slug>`` or ``param: ?var literal=integer default=<n>``. A parameter is a
variable the query projects; a value given for it is validated (against the facet's concepts, or as an integer) and
bound as a substitution. Run without a value, the variable stays free and the query answers for every value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.errors import InvalidParameter, NotFound
from evidencemap.graph.store import Binding, EvidenceMap
from evidencemap.model.vocabulary import Vocabulary
from evidencemap.resources import named_queries_dir


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


def parse_named_query(path: Path) -> NamedQuery:
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
    )


@lru_cache(maxsize=8)
def load_named_queries(folder: Path | None = None) -> tuple[NamedQuery, ...]:
    """Every named query of ``folder`` (the bundled ``api/queries`` by default), sorted by name."""
    root = folder or named_queries_dir()
    return tuple(parse_named_query(p) for p in sorted(root.glob("*.rq")))


def get_named_query(name: str, folder: Path | None = None) -> NamedQuery:
    """:raises NotFound: listing the names of the queries."""
    queries = load_named_queries(folder)
    for q in queries:
        if q.name == name:
            return q
    raise NotFound(f"No named query {name!r}.", hint=f"Queries: {', '.join(q.name for q in queries)}.")


def run_named_query(
    evidence_map: EvidenceMap,
    vocabulary: Vocabulary,
    name: str,
    values: Mapping[str, str] | None = None,
    *,
    defaults: bool = True,
) -> list[dict[str, object]]:
    """Rows of a named SELECT query with its parameters bound (defaults for those not given)."""
    query = get_named_query(name)
    return evidence_map.select(query.text, query.bindings(vocabulary, values or {}, defaults=defaults))
