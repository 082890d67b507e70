"""The living map over HTTP (issue 13): write tokens (401, 403, 405), changes checked before they land (422, nothing
written), the new study everywhere right after the write (counts, questions, gap map, /sparql), updates, retractions
(410 with the change), the change list (JSON, Turtle), the Atom feeds, old versions, and a restart that replays the
journal. The study added here is test data in a temporary state folder, never the bundled map's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import pyoxigraph as ox
import pytest

from app_support import TestClient
from evidencemap.graph.journal import Journal
from evidencemap.graph.tokens import TokenStore
from evidencemap.graph.writes import LivingMap, WriteConflict
from evidencemap.settings import Settings
from evidencemap.web.app import create_app

SLUG = "dufour-2025"
PASSAGE = "https://w3id.org/evidencemap/data/review/dufour-2025/passage/reference-52"
RATIONALE = "Test data of the living-map tests."


def fact(facet: str, value: str) -> dict[str, str]:
    return {"facet": facet, "value": value, "support": "inferred", "rationale": RATIONALE, "passage": PASSAGE}


def study(slug: str = "living-2026", ref: int = 901, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": slug, "ref": ref, "citation": "Living et al. 2026", "title": "An online peer group", "year": 2026,
        "authors": "Living A, Test B", "journal": "J Test", "intervention": {"label": "An online peer group"},
        "facts": [fact("design", "qualitative-study"), fact("delivery", "online"),
                  fact("challenge", "emotional-vulnerability-burnout")],
    }
    body.update(changes)
    return body


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("living-state")


@pytest.fixture(scope="module")
def tokens(state: Path) -> dict[str, str]:
    store = TokenStore(state)
    revoked, revoked_token = store.create(SLUG, "Former member")
    store.revoke(revoked.id)
    return {"team": store.create(SLUG, "Review team")[1], "other": store.create("other-map", "Someone else")[1],
            "revoked": revoked_token}


@pytest.fixture(scope="module")
def living_client(state: Path, tokens: dict[str, str]) -> Iterator[TestClient]:
    app = create_app(Settings(state=str(state), persistent_store=False, sparql_workers=1))
    with TestClient(app) as client:
        yield client
    app.state.living.close()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def total(client: TestClient, query: str) -> int:
    return int(client.get(f"/api/studies?{query}").json()["total"])


def journal_bytes(state: Path) -> bytes:
    path = state / SLUG / "journal.log"
    return path.read_bytes() if path.exists() else b""


def test_write_without_a_valid_token_is_401(living_client: TestClient, tokens: dict[str, str]) -> None:
    for headers in ({}, auth("evm_00000000_" + "A" * 43), auth(tokens["revoked"]), {"Authorization": "Basic eA=="}):
        response = living_client.post("/api/studies?message=x", json=study(), headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["ok"] is False and "token" in response.json()["error"]


def test_token_of_another_map_is_403(living_client: TestClient, tokens: dict[str, str]) -> None:
    response = living_client.post(f"/api/maps/{SLUG}/studies?message=x", json=study(), headers=auth(tokens["other"]))
    assert response.status_code == 403 and "other-map" in response.json()["error"]
    response = living_client.post("/api/maps/other-map/studies?message=x", json=study(), headers=auth(tokens["team"]))
    assert response.status_code == 403


def test_read_only_server_refuses_writes_with_a_hint() -> None:
    with TestClient(create_app(Settings(persistent_store=False))) as client:
        response = client.post("/api/studies?message=x", json=study(), headers=auth("evm_00000000_" + "A" * 43))
        assert response.status_code == 405
        assert "--state" in response.json()["hint"]
        assert client.get("/api/changes").json()["total"] == 0


def test_non_conforming_study_is_422_and_writes_nothing(living_client: TestClient, tokens: dict[str, str],
                                                        state: Path) -> None:
    app = living_client.app
    store = app.state.living.map.store  # type: ignore[attr-defined]
    before = (len(store), journal_bytes(state), app.state.living.map.version)  # type: ignore[attr-defined]
    bad = study("no-design-2026", 902, facts=[fact("delivery", "online")])
    bad["facts"].append({**fact("outcome", "reduced-disability"), "passage": PASSAGE})
    response = living_client.post("/api/studies?message=Missing+design", json=bad, headers=auth(tokens["team"]))
    assert response.status_code == 422
    body = response.json()
    assert body["ok"] is False
    messages = [p["message"] for p in body["problems"]]
    assert any("needs an evm:studyDesign" in m for m in messages), messages
    assert all(p["focus"].endswith("no-design-2026") or "/finding/" in p["focus"] for p in body["problems"])
    assert (len(store), journal_bytes(state), app.state.living.map.version) == before  # type: ignore[attr-defined]
    taken = study("taken-ref-2026", 35)  # 35 is Blay et al. 2025's reference number
    response = living_client.post("/api/studies?message=x", json=taken, headers=auth(tokens["team"]))
    assert response.status_code == 422 and "used twice" in response.text
    unknown = study("unknown-value-2026", 903, facts=[fact("design", "qualitative-study"), fact("delivery", "moon")])
    response = living_client.post("/api/studies?message=x", json=unknown, headers=auth(tokens["team"]))
    assert response.status_code == 422 and "online" in response.json()["allowed"]
    assert (len(store), journal_bytes(state)) == before[:2]


def test_a_change_needs_a_message_and_a_known_body_type(living_client: TestClient, tokens: dict[str, str]) -> None:
    assert living_client.post("/api/studies", json=study(), headers=auth(tokens["team"])).status_code == 422
    response = living_client.post("/api/studies?message=x", content=b"id,ref", headers={
        **auth(tokens["team"]), "Content-Type": "text/csv"})
    assert response.status_code == 415


def test_new_study_is_everywhere_right_after_the_write(living_client: TestClient, tokens: dict[str, str]) -> None:
    online_burnout = "delivery=online&challenge=emotional-vulnerability-burnout"
    before = total(living_client, online_burnout)
    cell = gap_cell(living_client)
    response = living_client.post(f"/api/maps/{SLUG}/studies?message=Found+in+the+May+search", json=study(),
                                  headers=auth(tokens["team"]))
    assert response.status_code == 201, response.text
    change = response.json()["change"]
    assert change["number"] == 1 and change["holder"] == "Review team" and change["version"].endswith(".1")
    assert response.headers["location"] == "/api/changes/1"
    assert total(living_client, online_burnout) == before + 1
    assert gap_cell(living_client) == cell + 1
    answer = living_client.get("/api/ask", params={"q": "which online studies reported burnout"}).json()
    assert "living-2026" in [s["id"] for s in answer["studies"]]
    detail = living_client.get("/api/studies/living-2026").json()
    assert detail["title"] == "An online peer group" and detail["ref"] == 901
    query = ("PREFIX evm: <https://w3id.org/evidencemap/ontology#> "
             "ASK { ?s a evm:IncludedStudy ; evm:slug \"living-2026\" }")
    sparql = living_client.get("/sparql", params={"query": query},
                               headers={"Accept": "application/sparql-results+json"})
    assert sparql.status_code == 200 and sparql.json()["boolean"] is True
    assert living_client.get("/api/studies.atom?delivery=online").status_code == 200


def gap_cell(client: TestClient) -> int:
    cells = client.get("/api/gapmap?rows=delivery&cols=challenge").json()["cells"]
    return int(next(c["count"] for c in cells
                    if c["row"] == "online" and c["col"] == "emotional-vulnerability-burnout"))


def test_the_change_is_listed_as_json_and_prov_turtle(living_client: TestClient) -> None:
    listing = living_client.get("/api/changes").json()
    assert listing["total"] >= 1
    first = listing["changes"][-1]
    assert first["message"] == "Found in the May search" and first["kind"] == "add"
    one = living_client.get("/api/changes/1").json()
    assert "living-2026" in one["added_quads"] and one["removed_quads"]  # the edition's old version and date
    turtle = living_client.get("/api/changes?format=ttl")
    assert turtle.headers["content-type"].startswith("text/turtle")
    triples = list(ox.parse(turtle.content, format=ox.RdfFormat.TURTLE))
    prov = "http://www.w3.org/ns/prov#"
    assert any(t.predicate.value == prov + "wasAssociatedWith" for t in triples)
    assert any(t.predicate.value == prov + "endedAtTime" for t in triples)
    assert any(t.object == ox.NamedNode(prov + "Activity") for t in triples)
    page = living_client.get("/changes", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Found in the May search" in page.text
    assert 'type="application/atom+xml"' in page.text


def parsed_feed(client: TestClient, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    for key in ("id", "title", "updated"):  # RFC 4287 4.1.1: required elements of a feed
        assert feed.feed.get(key), key
    for entry in feed.entries:  # RFC 4287 4.1.2: required elements of an entry (and a link, as there is no content)
        for key in ("id", "title", "updated", "link"):
            assert entry.get(key), key
    return feed


def test_feeds_validate_and_list_the_change(living_client: TestClient) -> None:
    every = parsed_feed(living_client, "/changes.atom")
    assert any("living-2026" in e.title for e in every.entries)
    online = parsed_feed(living_client, "/api/studies.atom?delivery=online&challenge=emotional-vulnerability-burnout")
    assert any("Found in the May search" in e.summary for e in online.entries)
    elsewhere = parsed_feed(living_client, "/api/studies.atom?delivery=in-person")
    assert not any("living-2026" in e.title for e in elsewhere.entries)


def test_update_keeps_the_iri_and_retraction_answers_410(living_client: TestClient, tokens: dict[str, str]) -> None:
    iri = living_client.get("/api/studies/living-2026").json()["iri"]
    changed = study(title="An online peer group: final report")
    response = living_client.put("/api/studies/living-2026?message=Title+of+the+final+report", json=changed,
                                 headers=auth(tokens["team"]))
    assert response.status_code == 200, response.text
    detail = living_client.get("/api/studies/living-2026").json()
    assert detail["title"] == "An online peer group: final report" and detail["iri"] == iri
    in_person = study(facts=[fact("design", "qualitative-study"), fact("delivery", "in-person")])
    living_client.put("/api/studies/living-2026?message=Delivered+in+person", json=in_person,
                      headers=auth(tokens["team"]))
    # The update moved the study out of the online list: that list's feed lists it (it matched before the change).
    online = parsed_feed(living_client, "/api/studies.atom?delivery=online")
    assert any("Delivered in person" in e.summary for e in online.entries)
    assert living_client.delete("/api/studies/living-2026", headers=auth(tokens["team"])).status_code == 422
    response = living_client.delete("/api/studies/living-2026?message=Duplicate+of+another+report",
                                    headers=auth(tokens["team"]))
    assert response.status_code == 200
    number = response.json()["change"]["number"]
    gone = living_client.get("/api/studies/living-2026")
    assert gone.status_code == 410 and f"/api/changes/{number}" in gone.json()["hint"]
    assert "Duplicate of another report" in gone.json()["error"]
    assert living_client.get("/studies/living-2026", headers={"Accept": "text/html"}).status_code == 410
    assert living_client.put("/api/studies/living-2026?message=x", json=study(),
                             headers=auth(tokens["team"])).status_code == 410


def test_turtle_body_and_old_versions(living_client: TestClient, tokens: dict[str, str]) -> None:
    turtle = living_client.get("/api/studies/blay-2025", params={"format": "json"}).json()
    assert turtle["id"] == "blay-2025"
    body = f"""
        @prefix evm: <https://w3id.org/evidencemap/ontology#> .
        @prefix study: <{turtle['iri'].rsplit('/', 1)[0]}/> .
        study:turtle-2026 a evm:IncludedStudy ; evm:slug "turtle-2026" ; evm:referenceNumber 904 ;
            evm:shortCitation "Turtle 2026" ; evm:reportedIn study:turtle-2026-report ;
            evm:includedIn <https://w3id.org/evidencemap/data/review/dufour-2025> .
        study:turtle-2026-report a evm:StudyReport ; <http://purl.org/dc/terms/title> "A report" ;
            evm:authors "Turtle T" ;
            <http://purl.org/spar/fabio/hasPublicationYear> "2026"^^<http://www.w3.org/2001/XMLSchema#gYear> .
    """
    response = living_client.post("/api/studies?message=Turtle", content=body.encode(),
                                  headers={**auth(tokens["team"]), "Content-Type": "text/turtle"})
    assert response.status_code == 422 and "studyDesign" in response.text  # a study without a design is refused
    number = living_client.get("/api/changes").json()["total"]
    first = living_client.get("/versions/1/map.nq").content
    files = living_client.get("/versions/0/map.nq").content
    now = living_client.get(f"/versions/{number}/map.nq").content
    assert b'"living-2026"' in first and b'"living-2026"' not in files and b'"living-2026"' not in now
    assert living_client.get(f"/versions/{number + 1}/map.nq").status_code == 404


def test_restart_replays_the_journal(living_client: TestClient, state: Path) -> None:
    with pytest.raises(WriteConflict):  # the running app holds the map open for writing
        LivingMap(living_client.app.state.living.map, state)  # type: ignore[attr-defined]
    living_client.app.state.living.close()  # type: ignore[attr-defined]
    restarted = create_app(Settings(state=str(state), persistent_store=False))
    try:
        with TestClient(restarted) as client:
            changes = client.get("/api/changes").json()
            assert changes["total"] == len(Journal(state / SLUG))
            assert client.get("/api/studies/living-2026").status_code == 410
            version = changes["changes"][0]["version"]
            assert version and client.get("/api/changes").json()["changes"][0]["version"] == version
    finally:
        restarted.state.living.close()



def test_lists_and_answers_link_their_feed(living_client: TestClient) -> None:
    page = living_client.get("/studies?delivery=online", headers={"Accept": "text/html"}).text
    assert '<link rel="alternate" type="application/atom+xml"' in page
    assert 'href="/api/studies.atom?delivery=online' in page
    answer = living_client.get("/ask", params={"q": "which online studies reported burnout"},
                               headers={"Accept": "text/html"}).text
    link = answer.split('type="application/atom+xml"', 1)[1].split('href="', 1)[1].split('"', 1)[0]
    assert link.startswith("/api/studies.atom?") and "delivery=online" in link
    assert parsed_feed(living_client, link.replace("&amp;", "&")).entries


def test_several_maps_each_with_its_journal(tmp_path: Path) -> None:
    """On a server of several maps, a token writes to its own map only, into that map's graphs and journal."""
    root = Path(__file__).resolve().parents[1]
    second = root / "tests" / "resources" / "maps" / "loneliness-2026"
    store = TokenStore(tmp_path)
    ours = store.create(SLUG, "Review team")[1]
    theirs = store.create("loneliness-2026", "Other team")[1]
    app = create_app(Settings(data=[root / "maps" / SLUG, second], state=str(tmp_path), persistent_store=False))
    try:
        with TestClient(app) as client:
            assert client.post("/api/maps/loneliness-2026/studies?message=x", json=study(),
                               headers=auth(ours)).status_code == 403
            response = client.post("/api/studies?message=Added", json=study(), headers=auth(ours))
            assert response.status_code == 201, response.text
            assert (tmp_path / SLUG / "journal.log").stat().st_size > 0
            assert not (tmp_path / "loneliness-2026" / "journal.log").read_bytes()
            graphs = {q.graph_name.value for q in app.state.living_maps[SLUG].map.store.quads_for_pattern(
                None, None, ox.Literal("living-2026"), None)}
            assert graphs == {f"https://w3id.org/evidencemap/graph/{SLUG}/data"}
            listing = client.get("/api/changes").json()
            assert [(c["map"], c["number"]) for c in listing["changes"]] == [(SLUG, 1)]
            assert client.get(f"/api/changes/1?map={SLUG}").status_code == 200
            assert client.get("/api/changes/1").status_code == 404  # which map's change 1?
            assert client.post(f"/api/maps/{SLUG}/studies?message=x", json=study("other-2026", 905),
                               headers=auth(theirs)).status_code == 403
    finally:
        for living in app.state.living_maps.values():
            living.close()


def test_claims_are_checked_and_bodies_with_bad_iris_are_4xx(living_client: TestClient,
                                                             tokens: dict[str, str]) -> None:
    claim = b"""
        @prefix evm: <https://w3id.org/evidencemap/ontology#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        @prefix prov: <http://www.w3.org/ns/prov#> .
        <https://w3id.org/evidencemap/data/review/dufour-2025/claim/living-test> a evm:StudyCountClaim ;
            rdfs:label "Studies published in 2019 or later (living-map test)"@en ; evm:statedCount 11 ;
            evm:section <https://w3id.org/evidencemap/data/review/dufour-2025/section/abstract> ;
            prov:wasDerivedFrom <https://w3id.org/evidencemap/data/review/dufour-2025/passage/abstract-included> ;
            evm:attribution evm:AttributedByDerivation ;
            evm:condition [ a evm:Condition ; evm:onFacet evm:facet-year ; evm:minValue 2019 ] .
    """
    turtle = {**auth(tokens["team"]), "Content-Type": "text/turtle"}
    response = living_client.post(f"/api/maps/{SLUG}/claims?message=A+claim", content=claim, headers=turtle)
    assert response.status_code == 200, response.text
    condition = "https://w3id.org/evidencemap/data/review/dufour-2025/claim/living-test/genid/1"
    store = living_client.app.state.living.map.store  # type: ignore[attr-defined]
    assert list(store.quads_for_pattern(ox.NamedNode(condition), None, None, None))  # the blank node, named
    unlabelled = claim.replace(b'rdfs:label "Studies published in 2019 or later (living-map test)"@en ;', b"")
    unlabelled = unlabelled.replace(b"living-test", b"living-test-2")
    response = living_client.post(f"/api/maps/{SLUG}/claims?message=x", content=unlabelled, headers=turtle)
    assert response.status_code == 422 and "rdfs:label" in response.text
    stray = b"<https://example.org/a> <https://example.org/b> <https://example.org/c> ."
    assert living_client.post(f"/api/maps/{SLUG}/claims?message=x", content=stray,
                              headers=turtle).status_code == 422
    bad = study("bad-iri-2026", 906, facts=[{**fact("design", "qualitative-study"), "passage": "not an iri"}])
    response = living_client.post("/api/studies?message=x", json=bad, headers=auth(tokens["team"]))
    assert response.status_code == 422 and "not a valid IRI" in response.json()["error"]


def test_the_json_get_returns_can_be_sent_back(living_client: TestClient, tokens: dict[str, str]) -> None:
    """A study's JSON sent back unchanged changes nothing (nothing it does not show is lost); with a new title, only
    the title changes."""
    store = living_client.app.state.living.map.store  # type: ignore[attr-defined]
    detail = living_client.get("/api/studies/grenyer-2025").json()
    before = set(store)
    response = living_client.put("/api/studies/grenyer-2025?message=Same", json=detail,
                                 headers=auth(tokens["team"]))
    assert response.status_code == 422 and "changes nothing" in response.json()["error"], response.text
    assert set(store) == before
    detail["title"] = detail["title"] + " (corrected)"
    response = living_client.put("/api/studies/grenyer-2025?message=Title", json=detail,
                                 headers=auth(tokens["team"]))
    assert response.status_code == 200, response.text
    one = living_client.get(f"/api/changes/{response.json()['change']['number']}").json()
    report = "<" + detail["report"] + ">"
    changed = [line for line in one["added_quads"].splitlines() if line.startswith(report)]
    assert len(changed) == 1 and "(corrected)" in changed[0]
    assert len([line for line in one["removed_quads"].splitlines() if line.startswith(report)]) == 1


def test_a_correction_that_breaks_a_claim_of_the_review_is_refused(living_client: TestClient,
                                                                   tokens: dict[str, str], state: Path) -> None:
    detail = living_client.get("/api/studies/blay-2025").json()
    delivery = [f for f in detail["facts"] if f["facet"] == "delivery"]
    assert delivery and all(f["value"]["slug"] != "online" for f in delivery)
    for f in delivery:
        f["value"] = "online"
    before = journal_bytes(state)
    response = living_client.put("/api/studies/blay-2025?message=Online", json=detail, headers=auth(tokens["team"]))
    assert response.status_code == 422, response.text
    assert any("claim" in p["message"] and "agrees with the map now" in p["message"]
               for p in response.json()["problems"])
    assert journal_bytes(state) == before


def test_facts_added_to_a_study_of_the_review_land(living_client: TestClient, tokens: dict[str, str]) -> None:
    """POST /api/studies/{id}/facts on a study whose other facts rest on findings the change does not touch: the
    check reads those findings too (it refused every added fact with "has the fact ... without an evm:Finding")."""
    outcome = "https://w3id.org/evidencemap/concept/challenge/interpersonal-conflict"
    before = {f["value"]["iri"] for f in living_client.get("/api/studies/blay-2025").json()["facts"]}
    assert outcome not in before
    response = living_client.post("/api/studies/blay-2025/facts?message=Read+in+the+report",
                                  json=[fact("challenge", "interpersonal-conflict")],
                                  headers=auth(tokens["team"]))
    assert response.status_code == 200, response.text
    assert response.json()["change"]["kind"] == "facts"
    after = living_client.get("/api/studies/blay-2025").json()["facts"]
    added = [f for f in after if f["value"]["iri"] == outcome]
    assert added and added[0]["support"] == "inferred"
    assert {f["value"]["iri"] for f in after} - {outcome} == before
