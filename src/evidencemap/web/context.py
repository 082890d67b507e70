"""What every request handler may use: the loaded map, its vocabulary, the settings and the site's title, kept on
app.state."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from evidencemap import namespaces as ns
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.facet_index import index_of
from evidencemap.model.reviews import reviews
from evidencemap.model.vocabulary import Vocabulary, load_vocabulary
from evidencemap.settings import Settings

# The title of the map edition (the dcat:Dataset derived from a review), else the review's own title.
EDITION_TITLE = ns.sparql_prefixes(("dcterms", "prov", "evm")) + """PREFIX dcat: <http://www.w3.org/ns/dcat#>
SELECT ?title WHERE {
  ?edition a dcat:Dataset ; prov:wasDerivedFrom ?review ; dcterms:title ?title . ?review a evm:ScopingReview .
} ORDER BY ?edition LIMIT 1
"""


def site_title(evidence_map: EvidenceMap) -> str | None:
    """What the home page is called: the short title of the map edition (``dcterms:title`` of the map's
    dcat:Dataset), or the title of the review it is built from; None for a map without either."""
    rows = evidence_map.select(EDITION_TITLE)
    if rows and rows[0].get("title"):
        return str(rows[0]["title"])
    found = reviews(evidence_map, count_studies=False)
    return found[0].title if found else None


@dataclass
class AppContext:
    evidence_map: EvidenceMap
    vocabulary: Vocabulary
    settings: Settings
    title: str | None = None

    @classmethod
    def build(cls, settings: Settings, evidence_map: EvidenceMap | None = None) -> AppContext:
        evidence_map = evidence_map or EvidenceMap.load(settings)
        vocabulary = load_vocabulary(evidence_map)
        index_of(evidence_map).warm(vocabulary.facets)  # before serving, so that no visitor waits for it
        return cls(evidence_map=evidence_map, vocabulary=vocabulary, settings=settings,
                   title=site_title(evidence_map))


def get_context(request: Request) -> AppContext:
    """FastAPI dependency: the context of the app serving this request."""
    context: AppContext = request.app.state.context
    return context
