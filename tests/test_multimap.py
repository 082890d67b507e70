"""Several maps in one graph and one server: the bundled map and a small second map on another topic
(tests/resources/maps/loneliness-2026: three studies, one of them the bundled barr-2022 by DOI, one under the bundled
slug barr-2020 but another study, and an outcome concept only it defines), loaded and served together."""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from evidencemap import namespaces as ns
from evidencemap.errors import DataError, NotFound
from evidencemap.graph.loading import find_maps
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.claims import DISAGREES, check_claims
from evidencemap.model.facets import Selection, facet_counts, select_studies
from evidencemap.model.maps import normalise_doi
from evidencemap.model.vocabulary import load_vocabulary
from evidencemap.settings import Settings
from evidencemap.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "maps" / "dufour-2025"
SECOND = ROOT / "tests" / "resources" / "maps" / "loneliness-2026"
SLUGS = ["dufour-2025", "loneliness-2026"]
SHARED_DOI = "10.1080/18387357.2021.1997097"  # Barr, Townsend & Grenyer 2022: in both maps
ONLY_SECOND = "https://w3id.org/evidencemap/concept/outcome/reduced-loneliness"


@pytest.fixture(scope="module")
def both() -> EvidenceMap:
    return EvidenceMap.load(Settings(data=[BUNDLED, SECOND]))


@pytest.fixture(scope="module")
def alone() -> dict[str, EvidenceMap]:
    return {"dufour-2025": EvidenceMap.load(Settings(data=[BUNDLED])),
            "loneliness-2026": EvidenceMap.load(Settings(data=[SECOND]))}


@pytest.fixture(scope="module")
def client(both: EvidenceMap) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data=[BUNDLED, SECOND]), both)) as served:
        yield served


@pytest.fixture(scope="module")
def single() -> Iterator[TestClient]:
    with TestClient(create_app(Settings())) as served:
        yield served


def _counts(evidence_map: EvidenceMap) -> dict[str, dict[str, int]]:
    """Every facet's value counts (the values with a study) among all the map's studies."""
    vocabulary = load_vocabulary(evidence_map)
    selection = Selection.parse(vocabulary, {})
    counts = {f.name: facet_counts(evidence_map, f, selection) for f in vocabulary.facets}
    return {name: {k: n for k, n in values.items() if n} for name, values in counts.items()}


# -- the graph ------------------------------------------------------------------------------------------------------


def test_each_folder_is_a_map_in_its_own_named_graphs(both: EvidenceMap) -> None:
    assert both.map_slugs() == SLUGS
    graphs = set(both.named_graphs())
    for slug in SLUGS:
        assert {ns.map_graph(slug, "data"), ns.map_graph(slug, "claims"), ns.map_graph(slug, "inferred")} <= graphs
    assert ns.map_graph("loneliness-2026", "vocabulary") in graphs and ns.GRAPH_VOCABULARY in graphs
    concept = ox.NamedNode(ONLY_SECOND)
    assert {q.graph_name.value for q in both.quads(subject=concept)} == {ns.map_graph("loneliness-2026", "vocabulary")}


def test_a_scoped_view_counts_what_the_map_alone_counts(both: EvidenceMap, alone: dict[str, EvidenceMap]) -> None:
    for slug in SLUGS:
        view = both.scoped(slug)
        assert _counts(view) == _counts(alone[slug]), slug
        vocabulary = load_vocabulary(view)
        everything = select_studies(view, Selection.parse(vocabulary, {}))
        assert len(everything) == {"dufour-2025": 11, "loneliness-2026": 3}[slug]
        assert view.triple_count() == alone[slug].triple_count()
    # the union mixes them: 14 studies
    vocabulary = load_vocabulary(both)
    assert len(select_studies(both, Selection.parse(vocabulary, {}))) == 14


def test_a_scoped_view_sees_core_and_its_own_concepts_only(both: EvidenceMap) -> None:
    ask = f"ASK {{ <{ONLY_SECOND}> ?p ?o }}"
    assert both.ask(ask) and both.scoped("loneliness-2026").ask(ask)
    assert not both.scoped("dufour-2025").ask(ask)
    assert not both.scoped("dufour-2025").quads(subject=ox.NamedNode(ONLY_SECOND))
    bundled_study = "https://w3id.org/evidencemap/data/dufour-2025/study/blay-2025"
    assert both.ask(f"ASK {{ <{bundled_study}> ?p ?o }}")
    assert not both.scoped("loneliness-2026").ask(f"ASK {{ <{bundled_study}> ?p ?o }}")
    other_graph = ns.map_graph("dufour-2025", "data")
    assert not both.scoped("loneliness-2026").ask(f"ASK {{ GRAPH <{other_graph}> {{ ?s ?p ?o }} }}")
    # GRAPH patterns see only the view's graphs
    rows = both.scoped("loneliness-2026").select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert {r["g"] for r in rows} <= {ns.GRAPH_VOCABULARY, *(ns.map_graph("loneliness-2026", p)
                                                            for p in ns.MAP_GRAPH_PARTS)}


def test_views_are_made_once_and_forget_their_caches_when_the_store_changes(both: EvidenceMap) -> None:
    view = both.scoped("loneliness-2026")
    assert both.scoped("loneliness-2026") is view and view.scoped("dufour-2025") is both.scoped("dufour-2025")
    built = []
    assert view.derive("test.multimap", lambda: built.append(1) or len(built)) == 1
    assert view.derive("test.multimap", lambda: built.append(1) or len(built)) == 1
    both.changed()
    assert view.derive("test.multimap", lambda: built.append(1) or len(built)) == 2
    with pytest.raises(NotFound):
        both.scoped("no-such-map")


def test_claims_checks_have_no_false_disagreement_per_map(both: EvidenceMap) -> None:
    for slug in SLUGS:
        view = both.scoped(slug)
        results = check_claims(view, load_vocabulary(view))
        assert results and not [r.label for r in results if r.verdict == DISAGREES], slug
    # the union would mix the maps' studies into each other's counts
    mixed = check_claims(both, load_vocabulary(both))
    assert [r for r in mixed if r.verdict == DISAGREES]


def test_two_maps_with_one_slug_are_an_error(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    shutil.copytree(SECOND, first)
    shutil.copytree(SECOND, second)
    with pytest.raises(DataError, match="Two maps have the slug 'loneliness-2026'"):
        EvidenceMap.load(Settings(data=[first, second]))


def test_paths_without_an_edition_join_a_map() -> None:
    extra = SECOND / "vocabulary.ttl"
    maps = find_maps([extra, BUNDLED, SECOND / "claims.ttl"])
    assert [m.slug for m in maps] == ["dufour-2025"] and extra in maps[0].files
    assert [m.slug for m in find_maps([ROOT / "tests" / "resources" / "shapes" / "valid" / "minimal-map.ttl"])] == [
        "minimal-map"]


def test_dois_are_compared_normalised() -> None:
    assert normalise_doi("https://doi.org/10.1080/18387357.2021.1997097") == SHARED_DOI
    assert normalise_doi("DOI:10.5555/LONELY.2020.7") == "10.5555/lonely.2020.7"


# -- the server -----------------------------------------------------------------------------------------------------


def test_root_is_the_map_index(client: TestClient) -> None:
    body = client.get("/api/maps").json()
    assert [(m["slug"], m["study_count"], m["version"]) for m in body["maps"]] == [
        ("dufour-2025", 11, "2.0.0"), ("loneliness-2026", 3, "1.0.0")]
    home = client.get("/", headers={"accept": "text/html"})
    assert home.status_code == 200
    for slug in SLUGS:
        assert f'href="/maps/{slug}/"' in home.text
    assert 'id="how-to-cite"' not in home.text  # the server's own pages cite no one map


def test_each_map_site_counts_its_own_studies(client: TestClient, single: TestClient) -> None:
    for slug, total in (("dufour-2025", 11), ("loneliness-2026", 3)):
        assert client.get(f"/maps/{slug}/api/studies").json()["total"] == total
    def counts(facets: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
        return {f["name"]: {v["slug"]: v["count"] for v in f["values"]} for f in facets}

    alone = counts(single.get("/api/facets").json()["facets"])
    assert counts(client.get("/maps/dufour-2025/api/facets").json()["facets"]) == alone


def test_each_map_facets_show_only_core_and_its_own_concepts(client: TestClient) -> None:
    def outcomes(slug: str) -> set[str]:
        facets = client.get(f"/maps/{slug}/api/facets").json()["facets"]
        return {v["iri"] for f in facets if f["name"] == "outcome" for v in f["values"]}

    assert ONLY_SECOND in outcomes("loneliness-2026")
    assert ONLY_SECOND not in outcomes("dufour-2025")
    page = client.get("/maps/dufour-2025/studies", headers={"accept": "text/html"}).text
    assert "reduced loneliness" not in page


def test_each_map_has_its_own_review_page_and_claims_check(client: TestClient) -> None:
    for slug in SLUGS:
        review = client.get(f"/maps/{slug}/api/review").json()
        assert review["review"]["iri"].endswith(f"/data/review/{slug}")
        claims = client.get(f"/maps/{slug}/api/review/claims").json()
        assert claims["claims_summary"]["disagrees"] == 0, slug
    page = client.get("/maps/loneliness-2026/review", headers={"accept": "text/html"})
    assert page.status_code == 200 and "Peer support for loneliness in later life" in page.text
    assert "borderline" not in page.text.lower()


def test_links_of_a_map_site_stay_in_it(client: TestClient) -> None:
    body = client.get("/maps/loneliness-2026/api/studies").json()
    assert body["links"]["html"] == "/maps/loneliness-2026/studies"
    assert body["studies"][0]["links"]["json"].startswith("/maps/loneliness-2026/api/studies/")
    page = client.get("/maps/loneliness-2026/studies", headers={"accept": "text/html"}).text
    links = sorted({h for h in re.findall(r'href="(/[^"#]*)"', page)} - {"/maps"})  # less the map index
    assert links and all(h.startswith("/maps/loneliness-2026/") for h in links), links
    for href in links:
        assert client.get(href, follow_redirects=True).status_code == 200, href


def test_the_matrix_shows_a_shared_study_once_with_both_reviews(client: TestClient) -> None:
    body = client.get("/api/matrix").json()
    assert body["count"] == 13 and body["shared"] == 1
    shared = [s for s in body["studies"] if s["doi"] == SHARED_DOI]
    assert len(shared) == 1 and shared[0]["reviews"] == SLUGS
    assert {c["url"] for c in shared[0]["cells"]} == {"/maps/dufour-2025/studies/barr-2022",
                                                      "/maps/loneliness-2026/studies/barr-2022-consumers"}
    table = list(csv.reader(io.StringIO(client.get("/api/matrix?format=csv").content.decode("utf-8-sig"))))
    assert table[0][4:6] == SLUGS
    rows = [r for r in table[1:] if r[3] == SHARED_DOI]
    assert len(rows) == 1 and rows[0][4:] == ["barr-2022", "barr-2022-consumers", "2"]
    page = client.get("/matrix", headers={"accept": "text/html"})
    assert page.status_code == 200 and page.text.count(SHARED_DOI + "</a>") == 1


def test_which_reviews_include_a_study(client: TestClient) -> None:
    body = client.get("/maps/dufour-2025/api/studies/barr-2022/reviews").json()
    assert [(r["map"], r["id"]) for r in body["reviews"]] == [("dufour-2025", "barr-2022"),
                                                               ("loneliness-2026", "barr-2022-consumers")]
    other = client.get("/maps/dufour-2025/api/studies/barr-2020/reviews").json()
    assert [r["map"] for r in other["reviews"]] == ["dufour-2025"]


def test_the_same_slug_in_two_maps_is_two_studies(client: TestClient) -> None:
    first = client.get("/maps/dufour-2025/api/studies/barr-2020").json()
    second = client.get("/maps/loneliness-2026/api/studies/barr-2020").json()
    assert first["iri"] != second["iri"] and first["title"] != second["title"]
    choice = client.get("/studies/barr-2020", follow_redirects=False)
    assert choice.status_code == 300
    assert choice.json()["allowed"] == [f"/maps/{slug}/studies/barr-2020" for slug in SLUGS]


def test_one_review_routes_at_the_root_offer_the_maps(client: TestClient) -> None:
    for path in ("/studies", "/api/facets", "/review", "/gapmap"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 300, path
        assert response.json()["allowed"] == [f"/maps/{slug}{path}" for slug in SLUGS]
    page = client.get("/review", headers={"accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 300 and 'href="/maps/loneliness-2026/review"' in page.text
    moved = client.get("/api/studies/kim-2024", follow_redirects=False)
    assert (moved.status_code, moved.headers["location"]) == (301, "/maps/loneliness-2026/api/studies/kim-2024")
    assert client.get("/nothing-here").status_code == 404


def test_old_iris_answer_301_to_the_new(client: TestClient, single: TestClient) -> None:
    for served in (single, client):
        moved = served.get("/data/study/blay-2025", follow_redirects=False)
        assert (moved.status_code, moved.headers["location"]) == (301, "/data/dufour-2025/study/blay-2025")
        ttl = served.get("/data/intervention/blay-2025.ttl", follow_redirects=False)
        assert ttl.headers["location"] == "/data/dufour-2025/intervention/blay-2025.ttl"
        assert served.get("/data/study/no-such-study", follow_redirects=False).status_code == 404
    in_site = client.get("/maps/dufour-2025/data/study/blay-2025", follow_redirects=False)
    assert in_site.headers["location"] == "/maps/dufour-2025/data/dufour-2025/study/blay-2025"
    assert single.get("/data/study/blay-2025", headers={"accept": "text/turtle"}).status_code == 200


def test_sparql_sees_every_map_in_its_named_graphs(client: TestClient) -> None:
    query = (f"SELECT ?g (COUNT(?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s a <{ns.EVM}IncludedStudy> }} }} "
             "GROUP BY ?g ORDER BY ?g")
    response = client.get("/sparql", params={"query": query}, headers={"accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    rows = [(b["g"]["value"], int(b["n"]["value"])) for b in response.json()["results"]["bindings"]]
    assert rows == [(ns.map_graph("dufour-2025", "data"), 11), (ns.map_graph("loneliness-2026", "data"), 3)]
    assert client.get("/maps/loneliness-2026/sparql", follow_redirects=False).headers["location"] == (
        "/sparql?map=loneliness-2026")  # its editor shows the core examples and this map's


def test_a_single_map_is_also_served_under_its_slug(single: TestClient) -> None:
    assert single.get("/api/studies").json()["total"] == 11
    mounted = single.get("/maps/dufour-2025/api/studies").json()
    assert mounted["total"] == 11 and mounted["links"]["html"] == "/maps/dufour-2025/studies"


def test_serve_validates_and_loads_both_maps(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import uvicorn

    from evidencemap.cli import main

    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: served.append(app))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # the store cache in the test's folder
    assert main(["serve", "--data", str(BUNDLED), str(SECOND)]) == 0
    (app,) = served
    assert sorted(app.state.sites) == SLUGS
    with TestClient(app) as running:
        assert [m["slug"] for m in running.get("/api/maps").json()["maps"]] == SLUGS
        assert running.get("/maps/loneliness-2026/api/studies").json()["total"] == 3


def test_each_map_describes_itself_and_serves_its_own_dumps(client: TestClient, alone: dict[str, EvidenceMap]) -> None:
    from rdflib import Graph, Literal, Namespace, URIRef
    from rdflib.namespace import VOID

    dcat = Namespace("http://www.w3.org/ns/dcat#")

    void = Graph().parse(data=client.get("/maps/loneliness-2026/.well-known/void.ttl").text, format="turtle")
    edition = URIRef(ns.DATA + "map/loneliness-2026")
    assert (edition, dcat.version, Literal("1.0.0")) in void
    assert int(void.value(edition, VOID.triples)) == alone["loneliness-2026"].select(
        "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }")[0]["n"]
    dumps = {str(d) for d in void.objects(edition, VOID.dataDump)}
    assert dumps and all(d.startswith(ns.CANONICAL_BASE + "maps/loneliness-2026/dumps/") for d in dumps)
    nquads = client.get("/maps/loneliness-2026/dumps/evidencemap.nq").text
    assert ns.map_graph("loneliness-2026", "data") in nquads and ns.map_graph("dufour-2025", "data") not in nquads


def test_the_study_page_names_the_other_reviews_including_it(client: TestClient, single: TestClient) -> None:
    page = client.get("/maps/loneliness-2026/studies/barr-2022-consumers", headers={"accept": "text/html"}).text
    assert 'id="study-other-reviews"' in page and 'href="/maps/dufour-2025/studies/barr-2022"' in page
    only_here = client.get("/maps/loneliness-2026/studies/kim-2024", headers={"accept": "text/html"}).text
    assert 'id="study-other-reviews"' not in only_here
    assert 'id="study-other-reviews"' not in single.get("/studies/barr-2022", headers={"accept": "text/html"}).text


def test_every_page_of_a_server_of_several_maps_links_the_map_index(client: TestClient, single: TestClient) -> None:
    for path in ("/maps/dufour-2025/", "/maps/loneliness-2026/studies", "/matrix"):
        assert 'id="all-maps"' in client.get(path, headers={"accept": "text/html"}).text, path
    assert 'id="all-maps"' not in single.get("/", headers={"accept": "text/html"}).text
    site = client.get("/maps/loneliness-2026/", headers={"accept": "text/html"}).text
    assert 'id="how-to-cite"' in site and "Loneliness evidence" in site


def test_each_maps_quotes_are_checked_against_its_own_text(tmp_path: Path) -> None:
    from evidencemap.graph.validation import validate_map

    second = tmp_path / "loneliness-2026"
    shutil.copytree(SECOND, second)
    bundled_words = "Two studies were delivered online (1, 2)."
    assert bundled_words in (second / "review.txt").read_text(encoding="utf-8")
    text = (second / "review.txt").read_text(encoding="utf-8").replace(bundled_words, "Two studies were online.")
    (second / "review.txt").write_text(text, encoding="utf-8")
    shutil.copytree(BUNDLED, tmp_path / "dufour-2025")
    with (tmp_path / "dufour-2025" / "review.txt").open("a", encoding="utf-8") as out:
        out.write("\n" + bundled_words + "\n")  # the other map's text has the words: they still count as invented
    result = validate_map(EvidenceMap.load(Settings(data=[tmp_path / "dufour-2025", second])))
    messages = [v.message for v in result.errors]
    assert any("passage/online quotes" in m and "loneliness-2026/review.txt" in m for m in messages), messages
    assert all("dufour-2025/review.txt" not in m or "passage/online" not in m for m in messages)


def test_the_bundled_maps_topic_concepts_stay_in_its_own_site(client: TestClient) -> None:
    hope = "https://w3id.org/evidencemap/concept/outcome/increased-hope"  # maps/dufour-2025/vocabulary.ttl

    def outcome_iris(slug: str) -> set[str]:
        facets = client.get(f"/maps/{slug}/api/facets").json()["facets"]
        return {v["iri"] for f in facets if f["name"] == "outcome" for v in f["values"]}

    assert hope in outcome_iris("dufour-2025") and hope not in outcome_iris("loneliness-2026")
    home = client.get("/maps/loneliness-2026/", headers={"accept": "text/html"}).text.lower()
    assert "borderline" not in home and "increased hope" not in home
    assert client.get("/maps/loneliness-2026/concepts/outcome/increased-hope").status_code == 404


def test_a_new_map_is_written_in_its_own_iri_space(tmp_path: Path) -> None:
    from evidencemap.authoring.records import ReviewRecord
    from evidencemap.authoring.scaffold import write_new_map

    write_new_map(tmp_path / "map", ReviewRecord(slug="walking-2027", title="A review of walking groups",
                                                 licence="https://creativecommons.org/licenses/by/4.0/"))
    studies = (tmp_path / "map" / "studies.ttl").read_text(encoding="utf-8")
    assert "@prefix study:   <https://w3id.org/evidencemap/data/walking-2027/study/> ." in studies
    assert "data/study/" not in studies


def test_the_matrix_comes_a_page_at_a_time_with_shared_studies_first(client: TestClient) -> None:
    first = client.get("/api/matrix?limit=2").json()
    assert (first["count"], first["limit"], first["offset"], len(first["studies"])) == (13, 2, 0, 2)
    assert first["studies"][0]["doi"] == SHARED_DOI and first["prev"] is None
    assert first["next"] == "/api/matrix?limit=2&offset=2"
    last = client.get("/api/matrix?limit=2&offset=12").json()
    assert len(last["studies"]) == 1 and last["next"] is None and last["prev"] == "/api/matrix?limit=2&offset=10"
    page = client.get("/matrix?limit=5", headers={"accept": "text/html"}).text
    assert 'href="/matrix?limit=5&amp;offset=5" rel="next"' in page
    assert client.get("/api/matrix?limit=0").status_code == 422


def test_a_maps_home_without_its_slash_redirects_to_it(client: TestClient, single: TestClient) -> None:
    for served in (client, single):
        moved = served.get("/maps/dufour-2025", follow_redirects=False)
        assert moved.status_code in (307, 308) and moved.headers["location"].endswith("/maps/dufour-2025/")


def test_a_studys_reviews_at_the_root_of_several_maps_go_to_its_map(client: TestClient) -> None:
    moved = client.get("/api/studies/kim-2024/reviews", follow_redirects=False)
    assert (moved.status_code, moved.headers["location"]) == (301, "/maps/loneliness-2026/api/studies/kim-2024/reviews")
    assert client.get("/api/studies/barr-2020/reviews", follow_redirects=False).status_code == 300
