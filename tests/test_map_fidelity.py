"""The loaded map against its one source, the review: quotes are verbatim, every count the review states is
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


@pytest.fixture
def loaded(bundled: EvidenceMap, vocabulary: Vocabulary) -> tuple[EvidenceMap, Vocabulary]:
    """conftest's bundled map and its vocabulary, as one pair."""
    return bundled, vocabulary


def normalised(text: str) -> str:
    return " ".join(text.split())


def test_review_text_is_the_shared_seed() -> None:
    if not SEED.exists():
        pytest.skip("../shared/seed is not beside this checkout")
    assert (bundled_map_dir() / "review.txt").read_text(encoding="utf-8") == SEED.read_text(encoding="utf-8")


def test_every_passage_is_quoted_verbatim(loaded: tuple[EvidenceMap, Vocabulary]) -> None:
    evidence_map, _ = loaded
    text = normalised((bundled_map_dir() / "review.txt").read_text(encoding="utf-8"))
    rows = evidence_map.select(EVM + "SELECT ?p ?q WHERE { ?p a evm:Passage ; oa:hasSelector/oa:exact ?q }")
    assert len(rows) == 75  # 72, and the three of the review's conclusion (section 5) that /review opens with
    missing = [row["p"] for row in rows if normalised(row["q"]) not in text]
    assert missing == []


def test_included_studies_are_references_35_to_45(loaded: tuple[EvidenceMap, Vocabulary]) -> None:
    evidence_map, _ = loaded
    rows = evidence_map.select(EVM + "SELECT ?ref WHERE { ?s a evm:IncludedStudy ; evm:referenceNumber ?ref }")
    assert sorted(r["ref"] for r in rows) == list(range(35, 46))


def test_every_attributable_claim_agrees(loaded: tuple[EvidenceMap, Vocabulary]) -> None:
    results = check_claims(*loaded)
    disagreeing = [(r.label, r.stated, r.recomputed, r.studies) for r in results if r.verdict == DISAGREES]
    assert disagreeing == []
    assert summary(results) == {AGREES: 50, DISAGREES: 0, NOT_ATTRIBUTABLE: 17}


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
        ("purpose-self-worth", 2, (38, 39)),
    ],
)
def test_claim_recomputed_from_studies(
    loaded: tuple[EvidenceMap, Vocabulary], slug: str, stated: int, refs: tuple[int, ...]
) -> None:
    result = next(r for r in check_claims(*loaded) if r.slug == slug)
    assert (result.stated, result.recomputed, result.studies, result.verdict) == (stated, stated, refs, AGREES)


@pytest.mark.parametrize("slug", ["country-united-kingdom", "ten-weeks", "biweekly-or-flexible", "dbt-explicit"])
def test_unnamed_counts_stay_claims_of_the_review(loaded: tuple[EvidenceMap, Vocabulary], slug: str) -> None:
    result = next(r for r in check_claims(*loaded) if r.slug == slug)
    assert result.verdict == NOT_ATTRIBUTABLE
    assert result.recomputed is None


def test_prisma_flow_arithmetic_is_checked(loaded: tuple[EvidenceMap, Vocabulary]) -> None:
    results = {r.slug: r for r in check_claims(*loaded)}
    assert (results["flow-full-text"].recomputed, results["flow-full-text"].verdict) == (65, AGREES)
    assert (results["flow-excluded-full-text"].recomputed, results["flow-excluded-full-text"].verdict) == (56, AGREES)
    assert results["flow-included"].recomputed == 11
    assert (results["discussion-included-studies"].recomputed, results["discussion-included-studies"].verdict) == (
        11, AGREES)
    assert results["flow-identified"].verdict == NOT_ATTRIBUTABLE


def test_changed_fact_makes_its_claim_disagree(tmp_path: Path) -> None:
    from evidencemap.settings import Settings

    for source in bundled_map_dir().iterdir():
        if not source.is_file():  # its queries/ folder
            continue
        text = source.read_text(encoding="utf-8")
        if source.name == "findings.ttl":
            # drop one cited burnout finding: the review's "burnout (n = 6)" must no longer agree
            start = text.index("finding:leon-2022--reportsChallenge--emotional-vulnerability-burnout a evm:Finding")
            text = text[:start] + text[text.index("\n\n", start) + 2 :]
        (tmp_path / source.name).write_text(text, encoding="utf-8")
    evidence_map = EvidenceMap.load(Settings(data=[tmp_path]))
    result = next(r for r in check_claims(evidence_map, load_vocabulary(evidence_map)) if r.slug == "burnout")
    assert (result.recomputed, result.verdict) == (5, DISAGREES)


FACTS = EVM + """PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
SELECT ?finding ?ref ?p ?o ?support ?rationale WHERE {
  ?finding a evm:Finding ; rdf:subject ?subject ; rdf:predicate ?p ; rdf:object ?o ; evm:support ?support .
  OPTIONAL { ?finding evm:rationale ?rationale }
  ?subject ^evm:evaluates? ?study . ?study evm:referenceNumber ?ref .
}"""


def local(iri: str) -> str:
    return iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def facts(evidence_map: EvidenceMap) -> set[tuple[int, str, str, str]]:
    """(reference number, fact property, value, support kind) of every finding, by local names."""
    return {(int(r["ref"]), local(r["p"]), local(r["o"]), local(r["support"])) for r in evidence_map.select(FACTS)}


# What issue 10 added or re-labelled, each checked against its passage by test_every_passage_is_quoted_verbatim.
ISSUE_10_FACTS = {
    # 3.3.1 "Five studies implemented structured and manualized peer-led programs (35-37, 42, 44)" (36: a source note)
    *{(ref, "facilitation", "peer-led", "Cited") for ref in (35, 37, 42, 44)},
    # 3.3.1 "Across these programs, peer facilitators all had lived experience ... and formal preparation ..."
    *{(ref, "facilitation", concept, "Cited") for ref in (35, 36, 44)
      for concept in ("facilitators-lived-experience", "facilitators-formally-prepared")},
    # 3.3.1 weekly (36 cited) and section 4's "6-Session" programme of Grenyer et al. (2025)
    (36, "schedule", "six-weeks", "Derived"),
    # 3.3.2: not among the three quantitative studies, cited for outcomes in the qualitative-data paragraph
    (39, "evidenceType", "qualitative", "Derived"),
    (40, "evidenceType", "qualitative", "Derived"),
    # plausible from the text and the reference list, not forced
    *{(ref, "country", "australia", "Inferred") for ref in (36, 38, 39, 42, 44)},
    (40, "studyDesign", "qualitative-study", "Inferred"),
    (43, "studyDesign", "descriptive-report", "Inferred"),
}


def test_issue_10_facts_have_their_support_kind(loaded: tuple[EvidenceMap, Vocabulary]) -> None:
    assert ISSUE_10_FACTS - facts(loaded[0]) == set()


def test_inferred_findings_are_exactly_the_plausible_ones(loaded: tuple[EvidenceMap, Vocabulary]) -> None:
    inferred = {f for f in facts(loaded[0]) if f[3] == "Inferred"}
    assert inferred == {f for f in ISSUE_10_FACTS if f[3] == "Inferred"}


def test_each_fact_has_one_support_kind(loaded: tuple[EvidenceMap, Vocabulary]) -> None:
    statements = [f[:3] for f in facts(loaded[0])]
    assert len(statements) == len(set(statements))


def test_no_country_is_cited_or_derived(loaded: tuple[EvidenceMap, Vocabulary]) -> None:
    countries = {f for f in facts(loaded[0]) if f[1] == "country"}
    assert countries == {(ref, "country", "australia", "Inferred") for ref in (36, 38, 39, 42, 44)}


def test_peer_led_follows_3_3_1_except_the_co_led_trial(loaded: tuple[EvidenceMap, Vocabulary]) -> None:
    facilitation = {(f[0], f[2]) for f in facts(loaded[0]) if f[1] == "facilitation"}
    assert {ref for ref, value in facilitation if value == "peer-led"} == {35, 37, 42, 44}
    assert {ref for ref, value in facilitation if value == "peer-clinician-co-facilitated"} == {36}


def test_derived_and_inferred_findings_carry_a_rationale(loaded: tuple[EvidenceMap, Vocabulary]) -> None:
    rows = loaded[0].select(FACTS)
    reasoned = [r for r in rows if local(r["support"]) in {"Derived", "Inferred"}]
    assert sum(1 for r in reasoned if local(r["support"]) == "Derived") == 14
    assert sum(1 for r in reasoned if local(r["support"]) == "Inferred") == 7
    assert all(len(r.get("rationale", "")) > 40 for r in reasoned)
    assert all("not forced" in r["rationale"] for r in reasoned if local(r["support"]) == "Inferred")
    assert all("rationale" not in r for r in rows if local(r["support"]) == "Cited")


def test_the_peer_led_note_on_35_is_on_its_finding_and_on_the_review(loaded: tuple[EvidenceMap, Vocabulary]) -> None:
    rows = loaded[0].select(EVM + """SELECT ?subject WHERE {
      ?subject evm:sourceNote <https://w3id.org/evidencemap/data/review/dufour-2025/note/peer-led-blay> }""")
    assert {local(r["subject"]) for r in rows} == {"dufour-2025", "blay-2025--facilitation--peer-led"}


def test_six_databases_are_the_databases_searched(loaded: tuple[EvidenceMap, Vocabulary]) -> None:
    evidence_map, _ = loaded
    rows = evidence_map.select(EVM + """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
    PREFIX dcterms: <http://purl.org/dc/terms/> PREFIX prov: <http://www.w3.org/ns/prov#>
    SELECT ?stated ?quote ?label ?type WHERE {
      <https://w3id.org/evidencemap/data/review/dufour-2025/claim/abstract-six-databases> evm:statedCount ?stated ;
          prov:wasDerivedFrom/oa:hasSelector/oa:exact ?quote ; evm:statedSource ?source .
      ?review evm:searchedSource ?source . ?source rdfs:label ?label ; dcterms:type ?type .
    }""")
    databases = evidence_map.select(EVM + """PREFIX dcterms: <http://purl.org/dc/terms/>
    SELECT ?source WHERE { ?review evm:searchedSource ?source . ?source dcterms:type "database" }""")
    assert {int(r["stated"]) for r in rows} == {len(rows)} == {len(databases)} == {6}
    assert {r["type"] for r in rows} == {"database"}
    assert all(r["label"] in r["quote"] for r in rows)
