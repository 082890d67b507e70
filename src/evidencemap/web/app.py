"""The app factory: the CLI, the tests and the ASGI entry point all call :func:`create_app`.

Every router is registered here and nowhere else, in the order of the OpenAPI document: /sparql, the visuals, linked
data, the REST API (facets, studies, concepts, then the review and the questions) and the clinicians' pages.

A server holds one map or several (``serve --data A B``: one map per folder, each in its own named graphs). Each
map's whole site (pages, REST API, questions, gap map, network, review, claims check, citations, linked data, dataset
description, dumps) is served under ``/maps/{slug}``, by an app of the site's routers whose context is the map's
scoped view (:meth:`EvidenceMap.scoped`); ``{{ root }}`` in templates and :func:`~evidencemap.web.context.rooted`
in Python start every link with that path. With one map the server's root is that map's site too, as it always was.
With several, the root is the map index; its /sparql, linked data and dumps are the union of the maps (each in its
named graphs), and a route that belongs to one review answers with the choice of maps (web/maps.py).
"""

from __future__ import annotations

from fastapi import FastAPI

from evidencemap import __version__
from evidencemap.graph.store import EvidenceMap
from evidencemap.settings import Settings
from evidencemap.web import (
    api,
    api_ask,
    api_review,
    changes,
    citations,
    edits,
    linked,
    maps,
    pages,
    sparql,
    sparql_vocabulary,
    visuals,
)
from evidencemap.web.caching import ConditionalGetMiddleware
from evidencemap.web.context import AppContext, SiteRootMiddleware
from evidencemap.web.errors import install_error_handlers
from evidencemap.web.head import HeadAsGetMiddleware
from evidencemap.web.security import BodyLimitMiddleware, SecurityHeadersMiddleware
from evidencemap.web.templating import mount_static


def _app() -> FastAPI:
    return FastAPI(
        title="evidencemap",
        version=__version__,
        description=(
            "A queryable knowledge graph of a scoping review's evidence: SPARQL 1.1 endpoint for analysts, "
            "REST API and pages for clinicians, dereferenceable IRIs for other tools."
        ),
    )


def _with_context(app: FastAPI, context: AppContext) -> FastAPI:
    app.state.context = context
    app.state.render_error = pages.render_error
    install_error_handlers(app)
    return app


def site_app(context: AppContext, living_maps: dict[str, object] | None = None) -> FastAPI:
    """One map's whole site, mounted at ``/maps/{slug}`` (no /sparql of its own: it redirects to the server's);
    ``living_maps``: the map open for writing (``serve --state``), whose changes and feeds the site shows."""
    app = _with_context(_app(), context)
    app.state.living_maps = living_maps or {}
    app.include_router(maps.site_router)  # before linked data: moved IRIs answer 301
    app.include_router(visuals.router)
    app.include_router(linked.router)
    app.include_router(api.router)
    app.include_router(changes.router)
    app.include_router(api_review.router)
    app.include_router(api_ask.router)
    app.include_router(citations.router)
    app.include_router(pages.router)
    mount_static(app)
    app.add_middleware(SiteRootMiddleware)
    return app


def create_app(settings: Settings | None = None, evidence_map: EvidenceMap | None = None) -> FastAPI:
    """A FastAPI app serving the maps named by ``settings`` (the bundled map by default)."""
    settings = settings or Settings.from_env()
    evidence_map = evidence_map or EvidenceMap.load(settings)
    slugs = evidence_map.map_slugs()
    several = len(slugs) > 1
    context = AppContext.build(settings, evidence_map, warm=not several)
    app = _with_context(_app(), context)
    # /sparql's worker pool is started and stopped with the app's lifespan; web/sparql.py.
    sparql.install_sparql(app, context)
    edits.install_living(app, context)  # --state DIR: changes accepted, journal replayed; web/edits.py
    app.include_router(sparql.router)
    app.include_router(sparql_vocabulary.router)
    app.include_router(maps.site_router)  # before linked data: moved IRIs answer 301
    if not several:
        app.include_router(visuals.router)
    app.include_router(linked.router)
    if not several:
        app.include_router(api.router)
    app.include_router(edits.router)
    app.include_router(changes.router)
    if not several:
        app.include_router(api_review.router)
        app.include_router(api_ask.router)
        app.include_router(citations.router)
        app.include_router(pages.router)
    app.include_router(maps.index_router)
    mount_static(app)  # before the maps' sites, each of which serves its own /static: url_for finds this one
    app.state.sites = {}
    living = getattr(app.state, "living_maps", None) or {}
    for slug in slugs:
        own = {k: v for k, v in living.items() if k == slug or not several}
        site = site_app(context if not several else AppContext.build(settings, evidence_map.scoped(slug)), own)
        app.state.sites[slug] = site
        app.mount(maps.site_path(slug), site)
    if several:
        app.include_router(maps.choice_router)  # last: the home page, and any route of one review's site
    app.add_middleware(linked.DatasetLinkMiddleware)
    app.add_middleware(SiteRootMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(ConditionalGetMiddleware)  # ETags and 304s (web/caching.py)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(HeadAsGetMiddleware)  # HEAD = GET without its body (web/head.py)
    return app
