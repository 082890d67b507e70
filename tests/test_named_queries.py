"""Named queries belong to their map (issue 12): the core queries of ``api/queries`` answer for any map, a map's own
(``maps/{slug}/queries``) are offered by that map alone, and a query whose default binds a concept a map lacks is not
offered for it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from evidencemap.cli import main
from evidencemap.errors import NotFound
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.queries import (
    get_named_query,
    load_named_queries,
    map_query_folders,
    named_queries,
    parse_named_query,
)
from evidencemap.model.vocabulary import vocabulary_of
from evidencemap.settings import Settings
from evidencemap.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "maps" / "dufour-2025"
SECOND = ROOT / "tests" / "resources" / "maps" / "loneliness-2026"
BROWSER = {"accept": "text/html"}
OWN = ["online-studies-burnout", "peer-worker-outcomes"]  # the bundled map's own questions
TOPIC = ("burnout", "peer worker", "section 3.2", "bpd", "borderline")


def _mentions_topic(text: str) -> bool:
    return any(word in text.lower() for word in TOPIC)


def _examples_section(page: str) -> str:
    """The editor page's examples, without the rest (the footer of a server of several maps cites every review)."""
    return page.split('id="sparql-examples-title"', 1)[1].split("</section>", 1)[0]


@pytest.fixture(scope="module")
def both() -> EvidenceMap:
    return EvidenceMap.load(Settings(data=[BUNDLED, SECOND]))


def test_core_queries_use_no_topic_and_bind_nothing_by_default() -> None:
    core = load_named_queries()
    assert core and all(q.map is None for q in core)
    for query in core:
        assert not _mentions_topic(f"{query.title} {query.description}"), query.name
        assert "/concept/" not in query.text, query.name  # no concept of a topic written in
        assert all(p.default is None for p in query.parameters), query.name  # a default would be one map's value


def test_bundled_map_offers_the_core_queries_and_its_own() -> None:
    offered = named_queries(EvidenceMap.load(Settings()))
    core = [q.name for q in load_named_queries()]
    assert [q.name for q in offered] == core + OWN
    assert [q.map for q in offered if q.name in OWN] == ["dufour-2025", "dufour-2025"]
    assert [q.qualified_name for q in offered][-2:] == [f"dufour-2025/{name}" for name in OWN]
    assert named_queries() == offered  # without a map: the bundled map's


def test_another_map_served_alone_offers_only_the_core_queries() -> None:
    evidence_map = EvidenceMap.load(Settings(data=[SECOND]))
    offered = named_queries(evidence_map)
    assert [q.name for q in offered] == [q.name for q in load_named_queries()]
    assert not any(_mentions_topic(f"{q.title} {q.description} {q.text}") for q in offered)
    with pytest.raises(NotFound) as error:
        get_named_query("online-studies-burnout", evidence_map)
    assert "online-studies-burnout" not in (error.value.hint or "")


def test_beside_the_bundled_map_each_map_offers_its_own(both: EvidenceMap) -> None:
    core = [q.name for q in load_named_queries()]
    assert [q.name for q in named_queries(both.scoped("loneliness-2026"))] == core
    assert [q.name for q in named_queries(both.scoped("dufour-2025"))] == core + OWN
    assert [(q.map, q.name) for q in named_queries(both) if q.map] == [("dufour-2025", n) for n in OWN]


def test_server_of_two_maps_labels_each_example_with_its_map(both: EvidenceMap) -> None:
    with TestClient(create_app(Settings(data=[BUNDLED, SECOND]), both)) as client:
        page = client.get("/sparql", headers=BROWSER)
        # each map's site sends its readers to the server's editor with its own examples only
        second = client.get("/maps/loneliness-2026/sparql", headers=BROWSER)
        bundled = client.get("/maps/dufour-2025/sparql", headers=BROWSER)
        ran = client.get("/maps/loneliness-2026/sparql", params={"query": "ASK {}", "format": "html"}, headers=BROWSER)
    examples = page.context["page"].examples  # type: ignore[attr-defined]
    assert [(e.map, e.name) for e in examples if e.map] == [("dufour-2025", n) for n in OWN]
    assert 'A question of the map <code>dufour-2025</code>.' in page.text
    assert _mentions_topic(_examples_section(page.text))  # the server's own editor: every map's questions
    core = [q.name for q in load_named_queries()]
    assert second.status_code == 200 and str(second.url).endswith("/sparql?map=loneliness-2026")
    assert [e.name for e in second.context["page"].examples] == core  # type: ignore[attr-defined]
    assert not _mentions_topic(_examples_section(second.text))
    assert '<input type="hidden" name="map" value="loneliness-2026">' in second.text  # kept when a query is run
    assert [e.name for e in bundled.context["page"].examples] == core + OWN  # type: ignore[attr-defined]
    assert ran.status_code == 200 and ran.context["page"].result.boolean is True  # type: ignore[attr-defined]
    assert [e.name for e in ran.context["page"].examples] == core  # type: ignore[attr-defined]


def test_a_map_site_alone_offers_no_other_maps_queries() -> None:
    with TestClient(create_app(Settings(data=[SECOND]))) as client:
        page = client.get("/sparql", headers=BROWSER)
    assert page.status_code == 200
    examples = page.context["page"].examples  # type: ignore[attr-defined]
    assert [e.name for e in examples] == [q.name for q in load_named_queries()]
    assert all(e.map is None for e in examples)
    assert not _mentions_topic(_examples_section(page.text))


def _map_with_queries(tmp_path: Path) -> Path:
    """The second map (loneliness) copied with a queries/ folder of its own: one query whose default is a concept it
    has, one whose default is a concept only the bundled map has."""
    folder = tmp_path / "loneliness"
    shutil.copytree(SECOND, folder)
    (folder / "queries").mkdir()
    body = ("PREFIX evm: <https://w3id.org/evidencemap/ontology#>\n"
            "SELECT ?study ?outcome WHERE { ?study evm:reportsOutcome ?outcome }\n")
    (folder / "queries" / "less-lonely.rq").write_text(
        "# title: Studies that found less loneliness\n# description: Which studies reported it.\n"
        "# param: ?outcome facet=outcome default=reduced-loneliness\n" + body, encoding="utf-8")
    (folder / "queries" / "burnout.rq").write_text(
        "# title: Burnout\n# description: A default this map does not have.\n"
        "# param: ?outcome facet=challenge default=emotional-vulnerability-burnout\n" + body, encoding="utf-8")
    return folder


def test_a_map_offers_its_own_queries_whose_defaults_it_has(tmp_path: Path) -> None:
    folder = _map_with_queries(tmp_path)
    evidence_map = EvidenceMap.load(Settings(data=[folder]))
    assert not [p for p in evidence_map.sources if p.suffix == ".rq"]  # never read as RDF
    slug = evidence_map.map_slugs()[0]
    assert map_query_folders([folder]) == {slug: [folder / "queries"]}
    own = [q for q in named_queries(evidence_map) if q.map]
    assert [(q.map, q.name) for q in own] == [(slug, "less-lonely")]
    assert get_named_query("less-lonely", evidence_map).title == "Studies that found less loneliness"


def test_cli_query_names_a_query_of_the_map_given(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _map_with_queries(tmp_path)
    assert main(["query", "less-lonely", "--format", "csv", "--data", str(folder)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "study,outcome" and len(out.splitlines()) == 3  # barr-2022-consumers, kim-2024
    assert main(["query", "online-studies-burnout", "--data", str(folder)]) != 0
    assert "No named query 'online-studies-burnout'" in capsys.readouterr().err


def test_the_authoring_guides_example_query_is_a_named_query_that_answers(tmp_path: Path) -> None:
    guide = (ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
    section = guide.split("## 6. Your map's own example queries", 1)[1]
    text = re.findall(r"```sparql\n(.*?)```", section, flags=re.S)[0]
    path = tmp_path / "online-outcomes.rq"
    path.write_text(text, encoding="utf-8")
    query = parse_named_query(path)
    assert query.title.startswith("Online studies") and query.description
    assert [(p.name, p.facet, p.default) for p in query.parameters] == [("delivery", "delivery", "online")]
    evidence_map = EvidenceMap.load(Settings())
    rows = evidence_map.select(query.text, query.bindings(vocabulary_of(evidence_map), {}))
    online = {int(r["ref"]) for r in evidence_map.select(
        "PREFIX evm: <https://w3id.org/evidencemap/ontology#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
        "SELECT ?ref WHERE { ?s evm:referenceNumber ?ref ; evm:evaluates/evm:delivery/skos:broader* "
        "<https://w3id.org/evidencemap/concept/delivery/online> ; evm:reportsOutcome ?o }")}
    assert online and {int(r["ref"]) for r in rows} == online
