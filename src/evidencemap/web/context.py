"""What every request handler may use: the loaded map, its vocabulary, the settings, the site's title and whether the
map conforms to the shapes, kept on app.state."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from evidencemap.graph.store import EvidenceMap
from evidencemap.graph.validation import validation_report
from evidencemap.model.facet_index import index_of
from evidencemap.model.reviews import map_title
from evidencemap.model.vocabulary import Vocabulary, vocabulary_of
from evidencemap.settings import Settings


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

    @classmethod
    def build(cls, settings: Settings, evidence_map: EvidenceMap | None = None) -> AppContext:
        evidence_map = evidence_map or EvidenceMap.load(settings)
        vocabulary = vocabulary_of(evidence_map)
        index_of(evidence_map).warm(vocabulary.facets)  # before serving, so that no visitor waits for it
        violations = len(validation_report(evidence_map).errors) if settings.allow_invalid else None
        return cls(evidence_map=evidence_map, vocabulary=vocabulary, settings=settings,
                   title=map_title(evidence_map), violations=violations)


def get_context(request: Request) -> AppContext:
    """FastAPI dependency: the context of the app serving this request."""
    context: AppContext = request.app.state.context
    return context
