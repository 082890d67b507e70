"""The app factory: the CLI, the tests and the ASGI entry point all call :func:`create_app`.

Routers are registered here and nowhere else.
"""

from __future__ import annotations

from fastapi import FastAPI

from evidencemap import __version__
from evidencemap.graph.store import EvidenceMap
from evidencemap.settings import Settings
from evidencemap.web import visuals
from evidencemap.web.context import AppContext
from evidencemap.web.errors import install_error_handlers
from evidencemap.web.linked import install_linked_data
from evidencemap.web.pages import install as install_clinician_pages
from evidencemap.web.sparql import install_sparql


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
    install_error_handlers(app)
    install_sparql(app, context)
    visuals.install(app)
    install_linked_data(app)
    install_clinician_pages(app)
    return app
