"""The study list's free-text search (q=): authors, title words, journal, year or programme, ANDed with the facet
filters, kept in every link, said back on the page; words no study has are named, and then nothing is listed."""

from __future__ import annotations

from fastapi.testclient import TestClient


def refs(client: TestClient, **params: str) -> list[int]:
    response = client.get("/api/studies", params=params)
    assert response.status_code == 200, response.text
    return [s["ref"] for s in response.json()["studies"]]


def test_an_author_finds_their_studies(client: TestClient) -> None:
    assert refs(client, q="Grenyer") == [36, 38, 39, 44]


def test_search_and_facets_narrow_each_other(client: TestClient) -> None:
    assert refs(client, q="Grenyer", delivery="online") == [36, 38, 44]


def test_a_word_no_study_has_lists_nothing_and_is_named(client: TestClient) -> None:
    body = client.get("/api/studies", params={"q": "Grenyer Linehan"}).json()
    assert body["total"] == 0 and body["search_unmatched"] == ["linehan"]


def test_the_search_is_kept_in_links_and_the_sparql_lists_the_same_studies(client: TestClient) -> None:
    body = client.get("/api/studies", params={"q": "art therapy"}).json()
    assert [s["ref"] for s in body["studies"]] == [44]
    assert body["search"] == "art therapy" and "q=art+therapy" in body["links"]["html"]
    assert all("q=art+therapy" in v["toggle_url"] for f in body["facets"] for v in f["values"])
    assert "<https://w3id.org/evidencemap/data/dufour-2025/study/jewell-2022>" in body["sparql"]


def test_the_page_says_what_was_searched_and_keeps_it_in_the_form(client: TestClient) -> None:
    page = client.get("/studies", params={"q": "Grenyer"}).text
    assert "found by “Grenyer”" in page and 'name="q"' in page and 'value="Grenyer"' in page


def test_the_csv_holds_the_searched_studies(client: TestClient) -> None:
    rows = client.get("/api/studies", params={"q": "Grenyer", "format": "csv"}).text.strip().splitlines()
    assert len(rows) == 1 + 4
