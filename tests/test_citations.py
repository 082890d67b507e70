"""Cite and trust (issue 11): citation files of a study, a filtered list and the map parse back with their own
libraries (rispy, bibtexparser, JSON) and hold what the map says; the footer and /review show how to cite the map and
its version; the CSV opens in Excel (UTF-8 with a byte-order mark)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import bibtexparser
import httpx
import pytest
import rispy

from evidencemap.graph.store import EvidenceMap
from evidencemap.publish.citations import Name, map_edition, names

JEWELL = {
    "id": "jewell-2022", "doi": "10.1186/s40479-022-00203-y", "year": 2022,
    "title": "Evaluation of a skills-based peerled art therapy online-group for people with emotion dysregulation",
}
REVIEW_DOI = "10.3389/fpsyt.2025.1663685"


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Element:
    text: str = ""
    hrefs: list[str] = field(default_factory=list)


class ById(HTMLParser):
    """The text and the link targets inside each element that has an id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: dict[str, Element] = {}
        self.open: list[str | None] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        href = named.get("href")
        for element in (self.found[i] for i in self.open if i):
            element.hrefs.extend([href] if href else [])
        if tag in VOID:
            return
        ident = named.get("id")
        if ident:
            self.found[ident] = Element(hrefs=[href] if href else [])
        self.open.append(ident)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.open:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        for element in (self.found[i] for i in self.open if i):
            element.text += data


def page(client: httpx.Client, path: str) -> dict[str, Element]:
    response = client.get(path)
    assert response.status_code == 200
    return ById(response.text).found


def download(client: httpx.Client, path: str, media: str, extension: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    assert response.headers["content-disposition"].endswith(f'.{extension}"')
    return response.content.decode("utf-8")


def ris(client: httpx.Client, path: str) -> list[dict[str, Any]]:
    return list(rispy.loads(download(client, path, "application/x-research-info-systems", "ris")))


def bibtex(client: httpx.Client, path: str) -> bibtexparser.Library:
    library = bibtexparser.parse_string(download(client, path, "application/x-bibtex", "bib"))
    assert not library.failed_blocks
    return library


def csl(client: httpx.Client, path: str) -> list[dict[str, Any]]:
    items = json.loads(download(client, path, "application/vnd.citationstyles.csl+json", "json"))
    assert isinstance(items, list) and all({"id", "type"} <= set(item) for item in items)
    return items


# -- one study -----------------------------------------------------------------------------------------------------


def test_one_study_as_ris_parses_back(client: httpx.Client) -> None:
    [record] = ris(client, "/api/cite/studies/44?format=ris")
    assert record["type_of_reference"] == "JOUR"
    assert (record["title"], record["doi"], record["year"]) == (JEWELL["title"], JEWELL["doi"], str(JEWELL["year"]))
    assert record["authors"] == ["Jewell, M", "Bailey, RC", "Curran, RL", "Grenyer, BFS"]


def test_one_study_as_bibtex_parses_back(client: httpx.Client) -> None:
    library = bibtex(client, "/api/cite/studies/jewell-2022?format=bibtex")
    [entry] = library.entries
    assert (entry.key, entry.entry_type) == (JEWELL["id"], "article")
    fields = entry.fields_dict
    assert fields["title"].value == JEWELL["title"] and fields["doi"].value == JEWELL["doi"]
    assert fields["year"].value == str(JEWELL["year"])
    assert fields["author"].value == "Jewell, M and Bailey, RC and Curran, RL and Grenyer, BFS"


def test_one_study_as_csl_json_parses_back(client: httpx.Client) -> None:
    [item] = csl(client, "/api/cite/studies/jewell-2022?format=csl-json")
    assert (item["id"], item["type"], item["title"], item["DOI"]) == (
        JEWELL["id"], "article-journal", JEWELL["title"], JEWELL["doi"])
    assert item["issued"] == {"date-parts": [[JEWELL["year"]]]}
    assert item["author"][0] == {"family": "Jewell", "given": "M"}


def test_accents_and_a_group_author_survive(client: httpx.Client) -> None:
    [leon] = csl(client, "/api/cite/studies/leon-2022?format=csl-json")
    assert leon["author"] == [{"family": "León", "given": "VI"}]
    [sadag] = ris(client, "/api/cite/studies/sadag-2023")  # RIS by default
    assert sadag["authors"] == ["Sadag Support Group"]
    [chapter] = bibtex(client, "/api/cite/studies/bates-2023?format=bibtex").entries
    assert chapter.entry_type == "incollection"
    assert chapter.fields_dict["booktitle"].value == "The Sociopragmatics of Emotion"


@pytest.mark.parametrize(
    ("authors", "expected"),
    [
        ("Dufour A-S, Nadeau L and Cailhol L",
         (Name("Dufour A-S", "Dufour", "A-S"), Name("Nadeau L", "Nadeau", "L"), Name("Cailhol L", "Cailhol", "L"))),
        ("Dahlenburg SC, O'Sullivan J", (Name("Dahlenburg SC", "Dahlenburg", "SC"),
                                          Name("O'Sullivan J", "O'Sullivan", "J"))),
        ("Sadag Support Group", (Name("Sadag Support Group"),)),
        (None, ()),
    ],
)
def test_names_split_only_where_unambiguous(authors: str | None, expected: tuple[Name, ...]) -> None:
    assert names(authors) == expected


# -- the filtered list ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "delivery=online", "delivery=online&support=cited", "q=Grenyer"])
def test_filtered_list_has_as_many_records_as_the_study_list(client: httpx.Client, query: str) -> None:
    total = client.get(f"/api/studies?{query}").json()["total"]
    assert total > 0
    sep = "&" if query else ""
    assert len(ris(client, f"/api/cite/studies?{query}{sep}format=ris")) == total
    assert len(bibtex(client, f"/api/cite/studies?{query}{sep}format=bibtex").entries) == total
    assert len(csl(client, f"/api/cite/studies?{query}{sep}format=csl-json")) == total


@pytest.mark.parametrize(
    ("path", "status", "needle"),
    [
        ("/api/cite/studies?format=pdf", 400, "ris, bibtex, csl-json"),
        ("/api/cite/map?format=endnote", 400, "ris, bibtex, csl-json"),
        ("/api/cite/studies?delivery=nowhere&format=ris", 400, "online"),
        ("/api/cite/studies?limit=3", 400, "Unknown facet 'limit'"),
        ("/api/cite/studies/nope?format=ris", 404, "No study 'nope'"),
    ],
)
def test_bad_citation_requests_get_the_error_shape(client: httpx.Client, path: str, status: int, needle: str) -> None:
    response = client.get(path)
    assert response.status_code == status
    body = response.json()
    assert body["ok"] is False and needle in (body["error"] + " " + (body.get("hint") or ""))


def test_accept_header_chooses_the_citation_format(client: httpx.Client) -> None:
    response = client.get("/api/cite/studies/44", headers={"accept": "application/x-bibtex"})
    assert response.headers["content-type"].startswith("application/x-bibtex")
    assert client.get("/api/cite/studies/44", headers={"accept": "image/png"}).status_code == 406


# -- the map -------------------------------------------------------------------------------------------------------


def test_map_edition_is_read_from_its_record(bundled: EvidenceMap) -> None:
    edition = map_edition(bundled)
    assert edition is not None
    assert (edition.title, edition.version, edition.date) == ("Peer support evidence", "2.0.0", "2026-12-01")
    assert edition.doi == REVIEW_DOI and edition.licence == "https://creativecommons.org/licenses/by/4.0/"


def test_map_citation_names_the_version_and_the_reviews_doi(client: httpx.Client) -> None:
    own, review = ris(client, "/api/cite/map?format=ris")
    assert own["type_of_reference"] == "DATA" and own["edition"] == "2.0.0" and REVIEW_DOI in own["notes"][0]
    assert review["doi"] == REVIEW_DOI
    entries = bibtex(client, "/api/cite/map?format=bibtex").entries_dict
    assert entries["dufour-2025-map"].fields_dict["version"].value == "2.0.0"
    assert REVIEW_DOI in entries["dufour-2025-map"].fields_dict["note"].value
    assert entries["dufour-2025"].fields_dict["doi"].value == REVIEW_DOI
    items = {i["id"]: i for i in csl(client, "/api/cite/map?format=csl-json")}
    assert items["dufour-2025-map"]["version"] == "2.0.0" and items["dufour-2025-map"]["type"] == "dataset"
    assert items["dufour-2025"]["DOI"] == REVIEW_DOI


# -- pages ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/studies", "/studies/blay-2025", "/review", "/gapmap"])
def test_footer_shows_how_to_cite_and_the_version(client: httpx.Client, path: str) -> None:
    found = page(client, path)
    cite = found["how-to-cite"]
    assert "Peer support evidence" in cite.text and "version 2.0.0" in cite.text
    assert {f"https://doi.org/{REVIEW_DOI}", "https://creativecommons.org/licenses/by/4.0/",
            "/api/cite/map?format=bibtex"} <= set(cite.hrefs)
    assert " ".join(found["map-version"].text.split()) == "Version 2.0.0, updated 2026-12-01"


def test_cite_links_on_the_study_list_review_and_study_pages(client: httpx.Client) -> None:
    assert "/api/cite/studies?delivery=online&format=ris" in page(client, "/studies?delivery=online")[
        "list-cite-links"].hrefs
    assert "/api/cite/studies/jewell-2022?format=csl-json" in page(client, "/studies/44")["study-cite-links"].hrefs
    review = page(client, "/review")
    assert "/api/cite/map?format=ris" in review["review-cite-links"].hrefs
    assert "version 2.0.0" in review["review-how-to-cite"].text
    assert review["how-to-cite-text"].text.startswith("Peer support evidence, version 2.0.0 (2026-12-01).")


# -- CSV for Excel -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/studies?format=csv", "/api/gapmap?rows=challenge&cols=modality&format=csv"])
def test_csv_starts_with_a_byte_order_mark(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert not rows[0][0].startswith("\ufeff")
    if path.startswith("/api/studies"):
        assert rows[0][0] == "ref" and any("L'Encéphale" in row for row in rows)
