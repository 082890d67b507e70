"""What every request handler may use: the loaded map, its vocabulary, the settings, the site's title and whether the
map conforms to the shapes, kept on app.state; and the path the site is served under (:func:`rooted`).

A server of several maps serves each one's whole site under ``/maps/{slug}`` (web/app.py): its context holds the map's
scoped view (:meth:`EvidenceMap.scoped`), and every link built in Python starts with :func:`rooted`, as every link of
a template starts with ``{{ root }}``.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from evidencemap.graph.store import EvidenceMap
from evidencemap.graph.validation import validation_report
from evidencemap.model.facet_index import index_of
from evidencemap.model.reviews import map_title
from evidencemap.model.vocabulary import Vocabulary, vocabulary_of
from evidencemap.settings import Settings

# The root path of the site answering the current request: "" for the server's own, "/maps/{slug}" for a map's.
_ROOT: ContextVar[str] = ContextVar("evidencemap_site_root", default="")


def rooted(path: str) -> str:
    """``path`` (``/studies/blay-2025``) as a link from the server's root: under the site answering the request."""
    return _ROOT.get() + path


class SiteRootMiddleware:
    """Records the site's root path (``scope["root_path"]``, set by the mount of a map's site) for :func:`rooted`
    while the request is handled."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _ROOT.set(str(scope.get("root_path", "")))
        try:
            await self.app(scope, receive, send)
        finally:
            _ROOT.reset(token)


@dataclass
class AppContext:
    evidence_map: EvidenceMap
    vocabulary: Vocabulary
    settings: Settings
    title: str | None = None
    # Violations of the shapes, counted when the settings allow serving a map that does not conform (``evidencemap
    # serve`` refuses one otherwise, before the app is built); None when the map was not validated here.
    violations: int | None = None

    @property
    def invalid(self) -> bool:
        """True when the map is served although it does not conform: every page says so."""
        return bool(self.violations)

    @property
    def slug(self) -> str | None:
        """The map this context serves alone (a map's site), or None (a server's own routes)."""
        return self.evidence_map.slug

    @classmethod
    def build(cls, settings: Settings, evidence_map: EvidenceMap | None = None, *, warm: bool = True) -> AppContext:
        """The context of a site serving ``evidence_map`` (loaded from ``settings`` when None); ``warm`` builds its
        facet index before serving, so that no visitor waits for it (a server of several maps does not need the
        index of their union)."""
        evidence_map = evidence_map or EvidenceMap.load(settings)
        vocabulary = vocabulary_of(evidence_map)
        if warm:
            index_of(evidence_map).warm(vocabulary.facets)
        violations = len(validation_report(evidence_map).errors) if settings.allow_invalid else None
        return cls(evidence_map=evidence_map, vocabulary=vocabulary, settings=settings,
                   title=map_title(evidence_map), violations=violations)


def get_context(request: Request) -> AppContext:
    """FastAPI dependency: the context of the app serving this request."""
    context: AppContext = request.app.state.context
    return context
