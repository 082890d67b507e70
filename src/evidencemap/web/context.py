"""What every request handler may use: the loaded map, its vocabulary and the settings, kept on app.state."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from ..settings import Settings
from ..store import EvidenceMap
from ..vocabulary import Vocabulary, load_vocabulary


@dataclass
class AppContext:
    evidence_map: EvidenceMap
    vocabulary: Vocabulary
    settings: Settings

    @classmethod
    def build(cls, settings: Settings, evidence_map: EvidenceMap | None = None) -> AppContext:
        evidence_map = evidence_map or EvidenceMap.load(settings)
        return cls(evidence_map=evidence_map, vocabulary=load_vocabulary(evidence_map), settings=settings)


def get_context(request: Request) -> AppContext:
    """FastAPI dependency: the context of the app serving this request."""
    context: AppContext = request.app.state.context
    return context
