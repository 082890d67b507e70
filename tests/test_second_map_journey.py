"""A second review team's journey, as README.md and docs/authoring.md tell it: ``evidencemap new`` writes a map on
another topic (school-based physical activity for children's mental health, an invented fixture review of seven
studies in tests/resources/second-map), the team adds its studies, findings, claims and vocabulary (with a facet of its
own) by hand to the files ``new`` wrote, validates it, and serves it beside the bundled map. Its pages hold none of the
bundled review's words, and its facet counts, questions, claims check and gap map give its own answers."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from evidencemap.cli import main
from evidencemap.graph.loading import build_store
from evidencemap.graph.store import EvidenceMap
from evidencemap.graph.validation import validate_map
from evidencemap.model.claims import check_claims
from evidencemap.model.vocabulary import load_vocabulary
from evidencemap.resources import bundled_map_dir
from evidencemap.settings import Settings
from evidencemap.web.app import create_app

RESOURCES = Path(__file__).resolve().parent / "resources" / "second-map"
SLUG = "school-pa"
SITE = f"/maps/{SLUG}"
LICENCE = "https://creativecommons.org/licenses/by/4.0/"
TITLE = "School-based physical activity for children's mental health: a scoping review"


@pytest.fixture(scope="module")
def second_map(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The map as the guide makes it: ``new``, then the team's own Turtle added to the files ``new`` wrote."""
    folder = tmp_path_factory.mktemp("team") / SLUG
    assert main(["new", str(folder), "--title", TITLE, "--licence", LICENCE,
                 "--doi", "10.5555/fixture.school-pa", "--review-text", str(RESOURCES / "review.txt")]) == 0
    for name in ("review.ttl", "studies.ttl", "findings.ttl", "claims.ttl"):
        with (folder / name).open("a", encoding="utf-8") as written:
            written.write("\n" + (RESOURCES / name).read_text(encoding="utf-8"))
    (folder / "vocabulary.ttl").write_text((RESOURCES / "vocabulary.ttl").read_text(encoding="utf-8"),
                                           encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def client(second_map: Path) -> Iterator[httpx.Client]:
    with TestClient(create_app(Settings(data=[bundled_map_dir(), second_map]))) as served:
        yield served


@pytest.fixture(scope="module")
def bundled_words() -> re.Pattern[str]:
    """The bundled review's own words: its studies' first authors, its vocabulary's labels, its topic and journal."""
    bundled = EvidenceMap(store=build_store([bundled_map_dir()]), settings=Settings())
    authors = {re.split(r"[ ,&]", str(r["c"]))[0] for r in bundled.select(
        "SELECT ?c WHERE { ?s <https://w3id.org/evidencemap/ontology#shortCitation> ?c }")}
    labels = {str(r["l"]) for r in bundled.select(
        "SELECT ?l WHERE { GRAPH <https://w3id.org/evidencemap/graph/dufour-2025/vocabulary> "
        "{ ?c <http://www.w3.org/2004/02/skos/core#prefLabel> ?l } }")}
    assert "Grenyer" in authors and "psychoeducation" in labels
    words = [rf"\b{re.escape(a)}\b" for a in authors] + [re.escape(label) for label in labels if len(label) > 6]
    return re.compile("|".join([*words, r"\bBPD\b", "borderline", r"\bpeer", "art therapy", r"Front\. Psychiatry",
                                r"\b3\.3\.\d\b"]), re.I)


def test_the_map_written_from_the_guide_conforms_and_its_claims_agree(second_map: Path) -> None:
    evidence_map = EvidenceMap.load(Settings(data=[second_map]))
    result = validate_map(evidence_map)
    assert result.conforms and result.violations == (), result.report_text
    verdicts = [row.verdict for row in check_claims(evidence_map, load_vocabulary(evidence_map))]
    assert verdicts == ["agrees"] * 3


@pytest.mark.parametrize("path", [
    "/", "/studies", "/studies/souza-2021", "/studies/sato-2024", "/review", "/review/claims", "/gapmap", "/network",
    "/studies?outcome=anxiety-symptoms", "/ask?q=which+studies+did+not+report+anxiety", "/api/facets",
    "/api/studies", "/api/gapmap", "/api/review"])
def test_no_page_of_the_second_map_holds_the_bundled_reviews_words(
    client: httpx.Client, bundled_words: re.Pattern[str], path: str
) -> None:
    response = client.get(SITE + path)
    assert response.status_code == 200, response.text
    assert sorted({m.group(0) for m in bundled_words.finditer(response.text)}) == [], path


def test_a_core_concept_is_named_in_neutral_words_on_its_pages(client: httpx.Client) -> None:
    """Regression: the core's trial was the bundled review's "two-arm parallel-group randomized controlled trial",
    shown for this map's cluster trial (Souza et al. 2021)."""
    page = client.get(f"{SITE}/studies/souza-2021").text
    assert "randomized controlled trial" in page and "two-arm" not in page


def test_its_facets_count_its_own_studies(client: httpx.Client) -> None:
    facets = {f["name"]: {v["slug"]: v["count"] for v in f["values"]}
              for f in client.get(f"{SITE}/api/facets").json()["facets"]}
    assert facets["outcome"] == {"concentration": 2, "self-esteem": 3, "anxiety-symptoms": 4}
    assert facets["challenge"] == {"exclusion": 2, "curriculum-time": 3}
    assert facets["activity-type"] == {"active-breaks": 1, "active-lessons": 3, "outdoor-play": 1, "sport-club": 2}
    assert facets["country"] == {"brazil": 1, "canada": 3, "japan": 1, "norway": 2}
    assert facets["delivery"]["online"] == 1 and facets["delivery"]["streamed-video-lessons"] == 1
    assert facets["component"] == {} and facets["modality"] == {}
    bundled = client.get("/maps/dufour-2025/api/facets").json()
    assert bundled["total"] == 11 and "activity-type" not in {f["name"] for f in bundled["facets"]}


@pytest.mark.parametrize(("question", "understanding", "total"), [
    ("which studies reported anxiety", "understood", 4),
    ("which studies did not report anxiety", "understood", 3),
    ("studies published after 2020", "understood", 5),
    ("studies that reported self-estem", "understood", 3),  # a typo
    ("sport club studies in Canada", "understood", 2),  # the map's own facet and a core country
    ("online studies", "understood", 1),  # its concept narrower than a core one
])
def test_a_clinicians_questions_get_the_maps_own_answers(
    client: httpx.Client, question: str, understanding: str, total: int
) -> None:
    answer = client.get(f"{SITE}/api/ask", params={"q": question}).json()
    assert (answer["understanding"], answer["total"]) == (understanding, total), answer


def test_a_question_the_map_cannot_answer_says_so_without_a_count(client: httpx.Client) -> None:
    answer = client.get(f"{SITE}/api/ask", params={"q": "does exercise reduce depression in adolescents"}).json()
    assert answer["understanding"] != "understood" and answer["headline"] is None, answer


def test_its_gap_map_crosses_its_own_facet_with_its_outcomes(client: httpx.Client) -> None:
    gap = client.get(f"{SITE}/api/gapmap").json()
    assert [f["name"] for f in gap["cols"]["facets"]] == ["outcome"]
    assert "activity-type" in [f["name"] for f in gap["rows"]["facets"]]
    assert {(g["row"], g["col"]) for g in gap["gaps"]} == {
        ("active-breaks", "self-esteem"), ("active-breaks", "anxiety-symptoms"), ("outdoor-play", "concentration"),
        ("outdoor-play", "self-esteem"), ("sport-club", "concentration")}


def test_a_study_page_under_a_maps_site_links_its_json_once_under_that_site(client: httpx.Client) -> None:
    """Regression: the study page's JSON link was rooted twice (/maps/x/maps/x/api/studies/...), a 404."""
    page = client.get(f"{SITE}/studies/haug-2019")
    assert f'href="{SITE}/api/studies/haug-2019"' in page.text
    assert f"{SITE}{SITE}" not in page.text and f"{SITE}{SITE}" not in page.headers["link"]
    assert client.get(f"{SITE}/api/studies/haug-2019").status_code == 200


def test_a_map_fresh_from_new_has_no_empty_attribution_or_review_sections(tmp_path: Path) -> None:
    """Regression: a review without authors or year gave a footer "Data: ." and the review page empty "Eligibility
    criteria" and "Search" sections (the latter with a lone full stop)."""
    folder = tmp_path / "fresh"
    assert main(["new", str(folder), "--title", TITLE, "--licence", LICENCE]) == 0
    with TestClient(create_app(Settings(data=[folder]))) as fresh:
        page = fresh.get("/review")
        assert page.status_code == 200, page.text
        assert not re.search(r"Data:\s*\.", page.text) and "<cite>School-based physical activity" in page.text
        assert 'id="criteria-heading"' not in page.text and 'id="search-heading"' not in page.text


def test_the_files_new_writes_are_ready_to_copy_and_hold_no_word_of_the_bundled_review(
    tmp_path: Path, bundled_words: re.Pattern[str]
) -> None:
    """Regression: the templates said "SLUG" (with a note below them naming the slug) and carried the bundled review's
    section title and study count."""
    folder = tmp_path / "other-review"
    assert main(["new", str(folder), "--title", TITLE, "--licence", LICENCE]) == 0
    for path in folder.glob("*.ttl"):
        text = path.read_text(encoding="utf-8")
        assert "SLUG" not in text and "Descriptive characteristics" not in text, path.name
        assert sorted({m.group(0) for m in bundled_words.finditer(text)}) == [], path.name
    assert "data/review/other-review/passage/online" in (folder / "findings.ttl").read_text(encoding="utf-8")


def test_the_filter_form_offers_only_topics_with_values(client: httpx.Client) -> None:
    """Regression: the core's facets the map does not use (components, programme types, schedules, facilitation)
    were headings with nothing to tick under them."""
    home = client.get(f"{SITE}/").text
    assert 'id="facet-activity-type"' in home and 'id="facet-outcome"' in home
    assert 'id="facet-component"' not in home and 'id="facet-modality"' not in home
    assert 'id="facet-component"' in client.get("/maps/dufour-2025/").text


def test_an_import_into_the_hand_written_map_refuses_to_replace_its_studies(
    second_map: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Regression: import-csv into a folder with hand-written studies replaced studies.ttl and findings.ttl, and
    rewrote the team's vocabulary.ttl (its comments lost, headed "import it again rather than edit")."""
    folder = tmp_path / SLUG
    shutil.copytree(second_map, folder)
    before = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.ttl")}
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("Study ID,Title,Authors,Year,Study design\nextra-2025,Another study,Fixture C,2025,cohort study\n",
                     encoding="utf-8")
    assert main(["import-csv", str(sheet), "--out", str(folder)]) == 2
    assert "holds statements written by hand" in capsys.readouterr().err
    assert {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.ttl")} == before
    # as the message says: the team's Turtle moved to files of its own, the import adds the sheet's study
    for name in ("studies.ttl", "findings.ttl"):
        (folder / name).rename(folder / f"hand-{name}")
    sheet.write_text("Reference number,Study ID,Title,Authors,Year,Study design\n"
                     "8,extra-2025,Another study,Fixture C,2025,cohort study\n", encoding="utf-8")
    assert main(["import-csv", str(sheet), "--out", str(folder)]) == 0
    assert (folder / "vocabulary.ttl").read_text(encoding="utf-8") == before["vocabulary.ttl"]
    studies = EvidenceMap.load(Settings(data=[folder])).select(
        "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/evidencemap/ontology#IncludedStudy> }")
    assert studies[0]["n"] == 8


def test_every_turtle_example_of_the_guide_parses() -> None:
    """The guide's Turtle examples are what a team copies: each parses, given the prefixes ``new`` writes and the
    ones the guide tells the team to add."""
    from rdflib import Graph

    guide = (Path(__file__).resolve().parents[1] / "docs" / "authoring.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```turtle\n(.*?)```", guide, flags=re.S)
    assert len(blocks) >= 3
    prefixes = "".join(f"@prefix {name}: <{iri}> .\n" for name, iri in (
        ("review", "https://w3id.org/evidencemap/data/review/"), ("evm", "https://w3id.org/evidencemap/ontology#"),
        ("oa", "http://www.w3.org/ns/oa#"), ("fabio", "http://purl.org/spar/fabio/"),
        ("xsd", "http://www.w3.org/2001/XMLSchema#"), ("dcterms", "http://purl.org/dc/terms/"),
        ("prov", "http://www.w3.org/ns/prov#"), ("rdfs", "http://www.w3.org/2000/01/rdf-schema#")))
    for block in blocks:
        assert len(Graph().parse(data=prefixes + block, format="turtle")) > 3, block[:80]


def test_a_quote_imported_from_a_sheet_is_in_the_section_a_team_writes_by_hand(tmp_path: Path) -> None:
    """Regression: the import named a quote's section .../section/3-2 where the templates of ``new`` (and the team's
    own passages and claims) say .../section/3.2: one section of the review became two."""
    folder = tmp_path / SLUG
    sheet = tmp_path / "sheet.csv"
    sheet.write_text('Study ID,Title,Authors,Year,Study design,Country,Country quote,Country section\n'
                     'haug-2019,A study,Haug E,2019,RCT,Norway,"Norway (1, 4)",3.2\n', encoding="utf-8")
    assert main(["import-csv", str(sheet), "--out", str(folder), "--title", TITLE, "--licence", LICENCE,
                 "--review-text", str(RESOURCES / "review.txt")]) == 0
    sections = EvidenceMap.load(Settings(data=[folder])).select(
        "SELECT ?s WHERE { ?s a <https://w3id.org/evidencemap/ontology#ReviewSection> }")
    assert [str(r["s"]) for r in sections] == [f"https://w3id.org/evidencemap/data/review/{SLUG}/section/3.2"]
