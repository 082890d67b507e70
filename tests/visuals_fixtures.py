"""Helpers of the gap map, PRISMA and network tests (issue 4): a copy of the bundled map to edit, a study to add,
reference numbers of studies, the studies a selection returns."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

from evidencemap.graph.store import EvidenceMap
from evidencemap.model.facets import Selection, select_studies
from evidencemap.model.vocabulary import Vocabulary
from evidencemap.resources import bundled_map_dir
from evidencemap.settings import Settings

with warnings.catch_warnings():
    # starlette warns at import time that it would prefer httpx2 to httpx; that is not ours to fix here
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


__all__ = ["EXTRA_STUDY", "STUDY", "TestClient", "copy_map", "map_with_extra_study", "refs", "studies_with"]

STUDY = "https://w3id.org/evidencemap/data/dufour-2025/study/"

# A study the review does not include, written as the review team would add one: online, emotional support and
# validation, reporting burnout and feeling understood. Used to show that every view follows the data.
EXTRA_STUDY = """
@prefix evm: <https://w3id.org/evidencemap/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix concept: <https://w3id.org/evidencemap/concept/> .
<https://w3id.org/evidencemap/data/dufour-2025/study/test-2026> a evm:IncludedStudy ;
    evm:slug "test-2026" ; evm:referenceNumber 99 ; evm:shortCitation "Test et al. 2026" ;
    rdfs:label "Test et al. 2026"@en ;
    evm:evaluates <https://w3id.org/evidencemap/data/dufour-2025/intervention/test-2026> ;
    evm:studyDesign <https://w3id.org/evidencemap/concept/design/qualitative-study> ;
    evm:reportsChallenge <https://w3id.org/evidencemap/concept/challenge/emotional-vulnerability-burnout>,
        <https://w3id.org/evidencemap/concept/challenge/misinformation> ;
    evm:reportsOutcome <https://w3id.org/evidencemap/concept/outcome/feeling-understood-validated> .
<https://w3id.org/evidencemap/data/dufour-2025/intervention/test-2026> a evm:Intervention ;
    rdfs:label "A test intervention"@en ;
    evm:modality <https://w3id.org/evidencemap/concept/modality/community-based> ;
    evm:delivery <https://w3id.org/evidencemap/concept/delivery/online> ;
    evm:component <https://w3id.org/evidencemap/concept/component/emotional-support-validation> .
"""


def copy_map(target: Path) -> Path:
    """A copy of the bundled map's files in ``target``, to edit in a test."""
    folder = target / "map"
    shutil.copytree(bundled_map_dir(), folder)
    return folder


def map_with_extra_study(target: Path) -> EvidenceMap:
    """The bundled map plus :data:`EXTRA_STUDY`."""
    folder = copy_map(target)
    (folder / "extra-study.ttl").write_text(EXTRA_STUDY, encoding="utf-8")
    return EvidenceMap.load(Settings(data=[folder]))


def refs(evidence_map: EvidenceMap, iris: list[str] | set[str]) -> list[int]:
    """Reference numbers of the studies, sorted."""
    by_iri = {
        row["study"]: int(row["ref"])
        for row in evidence_map.select(
            "PREFIX evm: <https://w3id.org/evidencemap/ontology#>\n"
            "SELECT ?study ?ref WHERE { ?study a evm:IncludedStudy ; evm:referenceNumber ?ref }"
        )
    }
    return sorted(by_iri[i] for i in iris)


def studies_with(evidence_map: EvidenceMap, vocabulary: Vocabulary, **chosen: list[str]) -> set[str]:
    """The studies facets.select_studies returns for ``{facet: [slug, ...]}`` (facet names with _ for -)."""
    params = {name.replace("_", "-"): values for name, values in chosen.items()}
    return set(select_studies(evidence_map, Selection.parse(vocabulary, params)))
