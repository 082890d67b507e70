"""The review's claims are read in two steps (model/claims.with_quotes: the claims, then their quotes bound as a
VALUES block, because pyoxigraph evaluated the OPTIONAL quote over every finding of the store first): the rows must
be those of the one query they replace, on every map that has claims, for the claims check and the review's counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidencemap.graph.store import EvidenceMap, Row
from evidencemap.model.claims import CLAIMS_QUERY, QUOTE_OPTIONAL, with_quotes
from evidencemap.model.review_counts import FACET_CLAIMS_QUERY, claim_rows
from evidencemap.resources import bundled_map_dir
from evidencemap.settings import Settings

RESOURCES = Path(__file__).resolve().parent / "resources"


def as_set(rows: list[Row]) -> list[tuple[tuple[str, str], ...]]:
    return sorted(tuple(sorted((key, str(value)) for key, value in row.items())) for row in rows)


@pytest.mark.parametrize("paths", [
    [bundled_map_dir()],
    [RESOURCES / "maps" / "loneliness-2026"],
], ids=["bundled", "loneliness"])
def test_claim_rows_are_the_one_querys_rows(paths: list[Path]) -> None:
    evidence_map = EvidenceMap.load(Settings(data=paths, persistent_store=False))
    expected = evidence_map.select(FACET_CLAIMS_QUERY)
    assert expected, "the map has claims to compare"
    assert as_set(claim_rows(evidence_map)) == as_set(expected)
    every_claim = evidence_map.select(CLAIMS_QUERY)
    assert any("quote" in row for row in every_claim) and as_set(with_quotes(evidence_map, CLAIMS_QUERY)) == \
        as_set(every_claim)


def test_a_query_without_the_quote_is_refused() -> None:
    with pytest.raises(ValueError):
        with_quotes(EvidenceMap.load(Settings(persistent_store=False)), CLAIMS_QUERY.replace(QUOTE_OPTIONAL, ""))


def test_a_claim_without_a_quote_keeps_its_row() -> None:
    evidence_map = EvidenceMap.load(Settings(persistent_store=False))
    some = evidence_map.select(FACET_CLAIMS_QUERY)[0]
    claim = evidence_map.iri(str(some["claim"]))
    evidence_map.store.update(
        f"DELETE WHERE {{ GRAPH ?g {{ <{claim}> <http://www.w3.org/ns/prov#wasDerivedFrom> ?passage }} }}")
    evidence_map.changed()
    rows = [r for r in claim_rows(evidence_map) if r["claim"] == some["claim"]]
    assert rows and all(r.get("quote") is None for r in rows)
    assert as_set(claim_rows(evidence_map)) == as_set(evidence_map.select(FACET_CLAIMS_QUERY))
