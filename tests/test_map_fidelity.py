"""The bundled map against its one source, the review: quotes are verbatim, every count the review states is
recomputed, and what the review does not attribute stays a claim."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidencemap.graph.store import EvidenceMap
from evidencemap.model.claims import AGREES, DISAGREES, NOT_ATTRIBUTABLE, check_claims, summary
from evidencemap.model.vocabulary import Vocabulary, load_vocabulary
from evidencemap.resources import bundled_map_dir

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "dufour-2025-peer-support-bpd-scoping-review.txt"
EVM = "PREFIX evm: <https://w3id.org/evidencemap/ontology#>\nPREFIX oa: <http://www.w3.org/ns/oa#>\n"


@pytest.fixture(scope="module")
def bundled() -> tuple[EvidenceMap, Vocabulary]:
    evidence_map = EvidenceMap.load()
    return evidence_map, load_vocabulary(evidence_map)


def normalised(text: str) -> str:
    return " ".join(text.split())


def test_review_text_is_the_shared_seed() -> None:
    if not SEED.exists():
        pytest.skip("../shared/seed is not beside this checkout")
    assert (bundled_map_dir() / "review.txt").read_text(encoding="utf-8") == SEED.read_text(encoding="utf-8")


def test_every_passage_is_quoted_verbatim(bundled: tuple[EvidenceMap, Vocabulary]) -> None:
    evidence_map, _ = bundled
    text = normalised((bundled_map_dir() / "review.txt").read_text(encoding="utf-8"))
    rows = evidence_map.select(EVM + "SELECT ?p ?q WHERE { ?p a evm:Passage ; oa:hasSelector/oa:exact ?q }")
    assert len(rows) == 70
    missing = [row["p"] for row in rows if normalised(row["q"]) not in text]
    assert missing == []


def test_included_studies_are_references_35_to_45(bundled: tuple[EvidenceMap, Vocabulary]) -> None:
    evidence_map, _ = bundled
    rows = evidence_map.select(EVM + "SELECT ?ref WHERE { ?s a evm:IncludedStudy ; evm:referenceNumber ?ref }")
    assert sorted(r["ref"] for r in rows) == list(range(35, 46))


def test_every_attributable_claim_agrees(bundled: tuple[EvidenceMap, Vocabulary]) -> None:
    results = check_claims(*bundled)
    disagreeing = [(r.label, r.stated, r.recomputed, r.studies) for r in results if r.verdict == DISAGREES]
    assert disagreeing == []
    assert summary(results) == {AGREES: 47, DISAGREES: 0, NOT_ATTRIBUTABLE: 17}


@pytest.mark.parametrize(
    ("slug", "stated", "refs"),
    [
        ("delivered-online", 6, (36, 38, 40, 42, 44, 45)),
        ("burnout", 6, (39, 40, 41, 42, 44, 45)),
        ("psychoeducation", 8, (35, 36, 37, 38, 39, 42, 43, 44)),
        ("design-qualitative-study", 5, (38, 39, 40, 41, 42)),
        ("country-australia", 5, (36, 38, 39, 42, 44)),
        ("included-between-2019-2025", 11, tuple(range(35, 46))),
        ("discussion-two-pre-post", 2, (35, 44)),
    ],
)
def test_claim_recomputed_from_studies(
    bundled: tuple[EvidenceMap, Vocabulary], slug: str, stated: int, refs: tuple[int, ...]
) -> None:
    result = next(r for r in check_claims(*bundled) if r.slug == slug)
    assert (result.stated, result.recomputed, result.studies, result.verdict) == (stated, stated, refs, AGREES)


@pytest.mark.parametrize("slug", ["country-united-kingdom", "ten-weeks", "biweekly-or-flexible", "dbt-explicit"])
def test_unnamed_counts_stay_claims_of_the_review(bundled: tuple[EvidenceMap, Vocabulary], slug: str) -> None:
    result = next(r for r in check_claims(*bundled) if r.slug == slug)
    assert result.verdict == NOT_ATTRIBUTABLE
    assert result.recomputed is None


def test_prisma_flow_arithmetic_is_checked(bundled: tuple[EvidenceMap, Vocabulary]) -> None:
    results = {r.slug: r for r in check_claims(*bundled)}
    assert (results["flow-full-text"].recomputed, results["flow-full-text"].verdict) == (65, AGREES)
    assert (results["flow-excluded-full-text"].recomputed, results["flow-excluded-full-text"].verdict) == (56, AGREES)
    assert results["flow-included"].recomputed == 11
    assert results["flow-identified"].verdict == NOT_ATTRIBUTABLE


def test_changed_fact_makes_its_claim_disagree(tmp_path: Path) -> None:
    from evidencemap.settings import Settings

    for source in bundled_map_dir().iterdir():
        text = source.read_text(encoding="utf-8")
        if source.name == "findings.ttl":
            # drop one cited burnout finding: the review's "burnout (n = 6)" must no longer agree
            start = text.index("finding:leon-2022--reportsChallenge--emotional-vulnerability-burnout a evm:Finding")
            text = text[:start] + text[text.index("\n\n", start) + 2 :]
        (tmp_path / source.name).write_text(text, encoding="utf-8")
    evidence_map = EvidenceMap.load(Settings(data=[tmp_path]))
    result = next(r for r in check_claims(evidence_map, load_vocabulary(evidence_map)) if r.slug == "burnout")
    assert (result.recomputed, result.verdict) == (5, DISAGREES)


def test_derived_findings_carry_a_rationale(bundled: tuple[EvidenceMap, Vocabulary]) -> None:
    evidence_map, _ = bundled
    rows = evidence_map.select(
        EVM + "SELECT ?f ?r WHERE { ?f evm:support evm:Derived . OPTIONAL { ?f evm:rationale ?r } }"
    )
    assert len(rows) == 20
    assert all(len(row.get("r", "")) > 40 for row in rows)
