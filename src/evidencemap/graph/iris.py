"""The one place that maps the canonical IRIs (how the data, the vocabulary and the queries are written) to the IRIs a
map is served under, and back.

A map may be served under another base than ``https://w3id.org/evidencemap/`` (``EVIDENCEMAP_BASE_IRI``): the files
are rewritten to it when they are loaded, and every internal query is written canonically and rebased on its way to
the store. A server answers for ``base + path`` at ``/path``.
"""

from __future__ import annotations

from dataclasses import dataclass

from evidencemap import namespaces as ns


@dataclass(frozen=True)
class IriSpace:
    """The IRIs of a map served under ``base``.

    >>> space = IriSpace("http://localhost:8000/")
    >>> space.served("https://w3id.org/evidencemap/data/dufour-2025/study/blay-2025")
    'http://localhost:8000/data/dufour-2025/study/blay-2025'
    >>> space.canonical("http://localhost:8000/concept/delivery/online")
    'https://w3id.org/evidencemap/concept/delivery/online'
    >>> space.canonical("http://example.org/other")
    'http://example.org/other'
    >>> space.rebase_text("SELECT * WHERE { ?s a <https://w3id.org/evidencemap/ontology#Finding> }")
    'SELECT * WHERE { ?s a <http://localhost:8000/ontology#Finding> }'
    >>> space.path("http://localhost:8000/data/dufour-2025/study/blay-2025"), space.path("http://example.org/x")
    ('/data/dufour-2025/study/blay-2025', None)
    >>> space.from_path("/data/dufour-2025/study/blay-2025")
    'http://localhost:8000/data/dufour-2025/study/blay-2025'
    >>> IriSpace().is_canonical
    True
    """

    base: str = ns.CANONICAL_BASE

    @property
    def is_canonical(self) -> bool:
        return self.base == ns.CANONICAL_BASE

    def served(self, canonical: str) -> str:
        """The IRI written under the canonical base, as this map holds and serves it."""
        if self.is_canonical or not canonical.startswith(ns.CANONICAL_BASE):
            return canonical
        return self.base + canonical[len(ns.CANONICAL_BASE):]

    def canonical(self, served: str) -> str:
        """The canonical form of an IRI of this map (inverse of :meth:`served`); other IRIs unchanged."""
        if self.is_canonical or not served.startswith(self.base):
            return served
        return ns.CANONICAL_BASE + served[len(self.base):]

    def rebase_text(self, text: str) -> str:
        """``text`` (a query, a JSON-LD context) with every canonical IRI rewritten under this base."""
        return text if self.is_canonical else text.replace(ns.CANONICAL_BASE, self.base)

    def path(self, served: str) -> str | None:
        """The local path at which a server of this map answers for ``served`` (None outside the base)."""
        return "/" + served[len(self.base):] if served.startswith(self.base) else None

    def from_path(self, path: str) -> str:
        """The IRI a request path stands for: the base plus the path without its leading slash."""
        return self.base + path.lstrip("/")
