"""The app factory: the CLI, the tests and the ASGI entry point all call :func:`create_app`.

Every router is registered here and nowhere else, in the order of the OpenAPI document: /sparql, the visuals, linked
data, the REST API (facets, studies, concepts, then the review and the questions) and the clinicians' pages.
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
    pages,
    sparql,
    sparql_vocabulary,
    visuals,
)
from evidencemap.web.caching import ConditionalGetMiddleware
from evidencemap.web.context import AppContext
from evidencemap.web.errors import install_error_handlers
from evidencemap.web.security import BodyLimitMiddleware, SecurityHeadersMiddleware
from evidencemap.web.templating import mount_static


def create_app(settings: Settings | None = None, evidence_map: EvidenceMap | None = None) -> FastAPI:
    """A FastAPI app serving the map named by ``settings`` (the bundled map by default)."""
    settings = settings or Settings.from_env()
    context = AppContext.build(settings, evidence_map)
    app = FastAPI(
        title="evidencemap",
        version=__version__,
        description=(
            "A queryable knowledge graph of a scoping review's evidence: SPARQL 1.1 endpoint for analysts, "
            "REST API and pages for clinicians, dereferenceable IRIs for other tools."
        ),
    )
    app.state.context = context
    app.state.render_error = pages.render_error
    install_error_handlers(app)
    # /sparql's worker pool is started and stopped with the app's lifespan; web/sparql.py.
    sparql.install_sparql(app, context)
    edits.install_living(app, context)  # --state DIR: changes accepted, journal replayed; web/edits.py
    app.include_router(sparql.router)
    app.include_router(sparql_vocabulary.router)
    app.include_router(visuals.router)
    app.include_router(linked.router)
    app.include_router(api.router)
    app.include_router(edits.router)
    app.include_router(changes.router)
    app.include_router(api_review.router)
    app.include_router(api_ask.router)
    app.include_router(citations.router)
    app.include_router(pages.router)
    mount_static(app)
    app.add_middleware(linked.DatasetLinkMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(ConditionalGetMiddleware)  # ETags and 304s (web/caching.py)
    app.add_middleware(SecurityHeadersMiddleware)
    return app
