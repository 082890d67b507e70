"""The core vocabulary (ontology/) is for any evidence map of interventions, in neutral words; each map adds the
concepts of its topic in its own vocabulary.ttl, and may add facets of its own.

- The core cites none of the bundled review's sections or words; its topic concepts live in the bundled map's
  vocabulary, with their IRIs, sections and mappings.
- The country scheme is every country of ISO 3166-1, generated from pycountry (and still up to date).
- A map made with ``evidencemap new`` on another topic (exercise for knee osteoarthritis), with its own facet and
  scheme and a concept narrower than a core concept, shows them in /api/facets, the pages, the gap map and the
  question parser with no code change, and none of the bundled review's topic words.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, SKOS

from evidencemap import namespaces as ns
from evidencemap.authoring.matching import Matcher
from evidencemap.cli import main
from evidencemap.graph.loading import build_store, build_vocabulary_store
from evidencemap.graph.store import EvidenceMap
from evidencemap.graph.validation import validate_map
from evidencemap.model.vocabulary import load_vocabulary
from evidencemap.resources import bundled_map_dir, vocabulary_files
from evidencemap.settings import Settings
from evidencemap.web.app import create_app

REPOSITORY = Path(__file__).resolve().parents[1]
SECTION_IRI = f"{ns.DATA}review/"
# Words of the bundled review's topic that no core label or definition, and no page of another map, may hold.
TOPIC_WORDS = re.compile(r"borderline|\bBPD\b|psychoeducation|consumer outcome|\bsections? \d|\(\d\.\d(\.\d)?\)", re.I)
# ... and, on another map's pages, not even "peer": the core's programme types and facilitation (peer-led, ...) are
# listed only where a map uses them (evm:listsOnlyValuesInUse).
PAGE_WORDS = re.compile(TOPIC_WORDS.pattern + r"|\bpeer", re.I)
ALPHA_3 = URIRef(ns.EVM + "ISO3166Alpha3")
COUNTRY = ns.CONCEPT + "country"


@pytest.fixture(scope="module")
def core() -> Graph:
    graph = Graph()
    for path in vocabulary_files():
        graph.parse(path, format="turtle")
    return graph


def words_of(graph: Graph) -> Iterator[tuple[str, str]]:
    """(subject, text) of every literal of the graph, which is where labels, definitions and notes are."""
    for s, _, o in graph:
        if isinstance(o, Literal):
            yield str(s), str(o)


# -- the core is neutral --------------------------------------------------------------------------------------------


def test_core_names_no_section_and_no_word_of_the_bundled_review(core: Graph) -> None:
    worded = [(s, text) for s, text in words_of(core) if TOPIC_WORDS.search(text)]
    assert worded == []
    cited = sorted({str(o) for o in core.objects() if isinstance(o, URIRef) and str(o).startswith(SECTION_IRI)})
    assert cited == []


def test_the_check_finds_the_bundled_reviews_words() -> None:
    bundled = Graph().parse(bundled_map_dir() / "vocabulary.ttl", format="turtle")
    assert any(TOPIC_WORDS.search(text) for _, text in words_of(bundled))
    assert any(str(o).startswith(SECTION_IRI) for o in bundled.objects(None, DCTERMS.source))


def test_topic_schemes_are_in_the_core_without_concepts(core: Graph) -> None:
    for scheme in ("outcome", "challenge", "component"):
        iri = URIRef(ns.CONCEPT + scheme)
        assert (iri, RDF.type, SKOS.ConceptScheme) in core
        assert list(core.subjects(SKOS.inScheme, iri)) == [], scheme


def test_topic_concepts_keep_their_iris_sections_and_mappings_in_the_bundled_map(core: Graph) -> None:
    bundled = Graph().parse(bundled_map_dir() / "vocabulary.ttl", format="turtle")
    moved = [URIRef(ns.CONCEPT + c) for c in (
        "outcome/bpd-symptom-reduction", "outcome/fewer-meeting-bpd-criteria", "component/psychoeducation",
        "challenge/emotional-vulnerability-burnout", "facilitation/facilitators-lived-experience",
        "schedule/ten-weeks")]
    for concept in moved:
        assert (concept, RDF.type, SKOS.Concept) not in core, concept
        assert (concept, RDF.type, SKOS.Concept) in bundled, concept
        assert str(bundled.value(concept, DCTERMS.source)).startswith(SECTION_IRI + "dufour-2025/section/3.3")
    assert str(bundled.value(moved[0], SKOS.relatedMatch)) == "http://id.nlm.nih.gov/mesh/D001883"
    assert "borderline personality disorder" in str(bundled.value(URIRef(ns.CONCEPT + "component/psychoeducation"),
                                                                 SKOS.definition))
    ten_weeks = URIRef(ns.CONCEPT + "schedule/ten-weeks")
    assert (ten_weeks, SKOS.broader, URIRef(ns.CONCEPT + "schedule/programme-length")) in bundled
    # the review's own wording of a core concept is a scope note of the map, its definition in the core is neutral
    rct = URIRef(ns.CONCEPT + "design/randomized-controlled-trial")
    assert "peer-support" in str(bundled.value(rct, SKOS.scopeNote))
    assert "peer" not in str(core.value(rct, SKOS.definition))


def test_the_bundled_map_reads_core_and_its_own_concepts() -> None:
    vocabulary = load_vocabulary(EvidenceMap(store=build_store(), settings=Settings()))
    sizes = {f.name: len(f.concepts) for f in vocabulary.concept_facets}
    assert sizes["outcome"] == 16 and sizes["challenge"] == 8 and sizes["component"] == 10
    assert sizes["country"] == 6  # the countries the map uses (evm:listsOnlyValuesInUse), not all 249
    assert sizes["design"] == 7  # its seven designs, not the core's others (cohort study, ...)
    schedule = vocabulary.facet("schedule")
    assert [c.slug for c in schedule.children(schedule.concept("programme-length"))] == [
        "six-weeks", "ten-weeks", "eighteen-weeks"]


# -- countries --------------------------------------------------------------------------------------------------------


def test_every_iso_country_is_a_concept_with_its_codes(core: Graph) -> None:
    countries = set(core.subjects(SKOS.inScheme, URIRef(COUNTRY)))
    assert len(countries) == 249
    plain, typed = [], []
    for concept in countries:
        notations = list(core.objects(concept, SKOS.notation))
        plain += [str(n) for n in notations if isinstance(n, Literal) and n.datatype is None]
        typed += [str(n) for n in notations if isinstance(n, Literal) and n.datatype == ALPHA_3]
        assert core.value(concept, SKOS.prefLabel) and core.value(concept, SKOS.definition), concept
    assert len(set(plain)) == 249 and all(re.fullmatch(r"[A-Z]{2}", n) for n in plain)
    assert len(set(typed)) == 249 and all(re.fullmatch(r"[A-Z]{3}", n) for n in typed)
    # alpha-3 codes are notations, not labels: "PER" or "CAN" would be read as words of a question
    labels = {str(o) for c in countries for o in core.objects(c, SKOS.altLabel)}
    assert not labels & set(typed)


def test_the_six_earlier_countries_keep_their_iris_labels_and_mappings(core: Graph) -> None:
    mesh = "http://id.nlm.nih.gov/mesh/"
    uk = URIRef(f"{COUNTRY}/united-kingdom")
    assert str(core.value(uk, SKOS.notation)) == "GB" and str(core.value(uk, SKOS.prefLabel)) == "United Kingdom"
    assert {"UK", "Britain", "British"} <= {str(o) for o in core.objects(uk, SKOS.altLabel)}
    assert str(core.value(uk, SKOS.exactMatch)) == mesh + "D006113"
    for slug, code in (("australia", "AU"), ("mexico", "MX"), ("south-africa", "ZA"), ("spain", "ES"),
                       ("france", "FR")):
        assert any(str(n) == code for n in core.objects(URIRef(f"{COUNTRY}/{slug}"), SKOS.notation)), slug
    korea = URIRef(f"{COUNTRY}/south-korea")
    assert str(core.value(korea, SKOS.prefLabel)) == "South Korea"


def test_the_country_scheme_is_what_the_generator_writes() -> None:
    pytest.importorskip("pycountry")
    from importlib.metadata import version

    header = re.search(r"from pycountry (\S+) ", (REPOSITORY / "ontology" / "schemes" / "country.ttl").read_text())
    assert header, "country.ttl names the pycountry version it was generated from"
    if header.group(1) != version("pycountry"):
        pytest.skip(f"country.ttl is from pycountry {header.group(1)}, {version('pycountry')} is installed: "
                    "run scripts/generate_country_scheme.py to update it (and check the changes)")
    script = REPOSITORY / "scripts" / "generate_country_scheme.py"
    done = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_import_matches_every_country_while_a_map_lists_only_its_own() -> None:
    every = load_vocabulary(EvidenceMap(store=build_vocabulary_store(), settings=Settings()), all_values=True)
    assert len(every.facet("country").concepts) == 249
    used = load_vocabulary(EvidenceMap(store=build_vocabulary_store(), settings=Settings()))
    assert used.facet("country").concepts == ()  # no map data: no country in use


def test_a_sheets_country_may_be_a_name_or_an_iso_code() -> None:
    every = load_vocabulary(EvidenceMap(store=build_vocabulary_store(), settings=Settings()), all_values=True)
    matcher = Matcher(every.facet("country"))
    found = {value: (m.concept.slug if m.concept else None) for value in ("PER", "gb", "USA", "Türkiye", "Turkey")
             if (m := matcher.match(value))}
    assert found == {"PER": "peru", "gb": "united-kingdom", "USA": "united-states", "Türkiye": "turkiye",
                     "Turkey": "turkiye"}
    assert matcher.match("Austrlia").concept is None  # a typo is suggested, never applied


# -- a map on another topic, with a facet of its own ------------------------------------------------------------------

MAP_VOCABULARY = """
@prefix evm:     <https://w3id.org/evidencemap/ontology#> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos:    <http://www.w3.org/2004/02/skos/core#> .
@prefix kx:      <https://example.org/knee-oa/vocabulary#> .
@prefix ex:      <https://example.org/knee-oa/exercise-type/> .
@prefix scheme:  <https://example.org/knee-oa/> .
@prefix delivery: <https://w3id.org/evidencemap/concept/delivery/> .

# a facet of this map only: its property, its scheme and its concepts
kx:exerciseType a evm:FactProperty ;
    rdfs:label "exercise type"@en ;
    skos:definition "Relates an intervention to the kind of exercise it prescribed."@en ;
    rdfs:domain evm:Intervention ; rdfs:range skos:Concept ;
    evm:valueScheme scheme:exercise-type .

kx:facet-exercise-type a evm:Facet ;
    evm:facetName "exercise-type" ; evm:facetOrder 20 ;
    rdfs:label "exercise type"@en ; skos:altLabel "kind of exercise"@en ;
    skos:definition "The kind of exercise an intervention prescribed."@en ;
    evm:facetScheme scheme:exercise-type ; evm:facetPath ( evm:evaluates kx:exerciseType ) ;
    evm:gapMapRole "columns" .

scheme:exercise-type a skos:ConceptScheme ;
    skos:prefLabel "exercise types"@en ;
    skos:definition "Kinds of exercise prescribed for knee osteoarthritis."@en ;
    skos:hasTopConcept ex:aquatic-exercise, ex:strength-training .

ex:aquatic-exercise a skos:Concept ; skos:inScheme scheme:exercise-type ; skos:topConceptOf scheme:exercise-type ;
    skos:prefLabel "aquatic exercise"@en ; skos:altLabel "hydrotherapy"@en, "pool exercise"@en ;
    skos:definition "Exercise performed in water."@en .

ex:strength-training a skos:Concept ; skos:inScheme scheme:exercise-type ; skos:topConceptOf scheme:exercise-type ;
    skos:prefLabel "strength training"@en ; skos:altLabel "resistance training"@en ;
    skos:definition "Exercise against resistance to strengthen the muscles around the knee."@en .

# a concept of a core scheme, narrower than a core concept
delivery:telerehabilitation a skos:Concept ; skos:inScheme <https://w3id.org/evidencemap/concept/delivery> ;
    skos:broader delivery:fully-virtual ;
    skos:prefLabel "telerehabilitation"@en ; skos:altLabel "tele-rehabilitation"@en ;
    skos:definition "Rehabilitation supervised remotely by a clinician through video calls or an app."@en .
"""

SHEET_ROWS = [
    {"Study ID": "knee-01", "Title": "Knee fixture 1: pool exercise for knee osteoarthritis (test data)",
     "Authors": "Fixture A; Example B", "Year": "2019", "Journal": "Journal of Test Fixtures",
     "DOI": "10.5555/knee.01", "Country": "Canada", "Study design": "randomised controlled trial",
     "Intervention": "Knee fixture programme 1", "Delivery": "face-to-face", "Programme type": "structured",
     "Components": "supervised exercise", "Outcomes": "pain", "Exercise type": "hydrotherapy"},
    {"Study ID": "knee-02", "Title": "Knee fixture 2: strength training at home for knee osteoarthritis (test data)",
     "Authors": "Fixture C", "Year": "2021", "Journal": "Journal of Test Fixtures", "DOI": "10.5555/knee.02",
     "Country": "Germany", "Study design": "prospective cohort study", "Intervention": "Knee fixture programme 2",
     "Delivery": "telerehabilitation", "Programme type": "structured", "Components": "supervised exercise",
     "Outcomes": "pain; physical function", "Exercise type": "strength training"},
]


@pytest.fixture(scope="module")
def knee_map(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A map made as docs/authoring.md says: `evidencemap new`, its own vocabulary.ttl, then an extraction sheet."""
    root = tmp_path_factory.mktemp("knee")
    folder = root / "knee-oa"
    assert main(["new", str(folder), "--title", "Exercise for knee osteoarthritis: a fixture review",
                 "--licence", "https://creativecommons.org/licenses/by/4.0/"]) == 0
    (folder / "vocabulary.ttl").write_text(MAP_VOCABULARY, encoding="utf-8")
    sheet = root / "sheet.csv"
    with sheet.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, list(SHEET_ROWS[0]))
        writer.writeheader()
        writer.writerows(SHEET_ROWS)
    mapping = root / "mapping.json"
    mapping.write_text(json.dumps({"Exercise type": "exerciseType"}), encoding="utf-8")
    # exits 0 when the map conforms too (test_the_knee_map_conforms says why not, if not)
    main(["import-csv", str(sheet), "--out", str(folder), "--mapping", str(mapping), "--add-concepts"])
    report = json.loads((folder / "import-report.json").read_text(encoding="utf-8"))
    assert report["studies"] == 2 and report["unknown_values"] == [] and report["problems"] == []
    assert {c["label"] for c in report["added_concepts"]} == {"supervised exercise", "pain", "physical function"}
    return folder


@pytest.fixture(scope="module")
def knee_client(knee_map: Path) -> Iterator[httpx.Client]:
    with TestClient(create_app(Settings(data=[knee_map]))) as client:
        yield client


def test_the_knee_map_conforms(knee_map: Path) -> None:
    result = validate_map(EvidenceMap(store=build_store([knee_map]), settings=Settings()))
    assert result.conforms, result.report_text


def test_a_map_facet_and_a_narrower_concept_come_from_the_maps_vocabulary(knee_map: Path) -> None:
    vocabulary = load_vocabulary(EvidenceMap(store=build_store([knee_map]), settings=Settings()))
    facet = vocabulary.facet("exercise-type")
    assert [c.slug for c in facet.concepts] == ["aquatic-exercise", "strength-training"]
    assert facet.path[-1] == "https://example.org/knee-oa/vocabulary#exerciseType"
    delivery = vocabulary.facet("delivery")
    tele = delivery.concept("telerehabilitation")
    assert [c.slug for c in delivery.ancestors(tele)] == ["telerehabilitation", "fully-virtual", "online"]
    assert [c.slug for c in vocabulary.facet("country").concepts] == ["canada", "germany"]
    # designs, like countries, are the core's that the map uses (the core has the common ones)
    assert [c.slug for c in vocabulary.facet("design").concepts] == ["randomized-controlled-trial", "cohort-study"]
    assert {c.pref_label for c in vocabulary.facet("outcome").concepts} == {"pain", "physical function"}


def test_a_map_of_another_topic_holds_none_of_the_bundled_reviews_words(knee_map: Path) -> None:
    evidence_map = EvidenceMap(store=build_store([knee_map]), settings=Settings())
    rows = evidence_map.select(ns.sparql_prefixes(("skos", "rdfs")) + """
        SELECT ?s ?text WHERE { ?s ?p ?text . FILTER(isLiteral(?text))
          VALUES ?p { skos:prefLabel skos:altLabel skos:hiddenLabel skos:definition skos:scopeNote rdfs:label } }""")
    assert len(rows) > 500
    assert [(r["s"], r["text"]) for r in rows if TOPIC_WORDS.search(str(r["text"]))] == []


def test_the_api_pages_gap_map_and_questions_read_the_maps_own_facet(knee_client: httpx.Client) -> None:
    facets = {f["name"]: f for f in knee_client.get("/api/facets").json()["facets"]}
    exercise = {v["slug"]: v["count"] for v in facets["exercise-type"]["values"]}
    assert exercise == {"aquatic-exercise": 1, "strength-training": 1}
    assert knee_client.get("/api/studies", params={"exercise-type": "aquatic-exercise"}).json()["total"] == 1
    assert knee_client.get("/api/studies", params={"delivery": "online"}).json()["total"] == 1  # via broader
    assert "exercise type" in knee_client.get("/studies").text.lower()
    gap = knee_client.get("/api/gapmap", params={"rows": "exercise-type", "cols": "outcome"})
    assert gap.status_code == 200, gap.text
    answer = knee_client.get("/api/ask", params={"q": "how many studies used pool exercise"}).json()
    assert answer["understanding"] == "understood", answer
    assert answer["headline"] == 1 and answer["total"] == 1


@pytest.mark.parametrize("path", ["/", "/studies", "/api/facets", "/gapmap", "/api/gapmap", "/review"])
def test_no_page_of_the_other_map_shows_the_bundled_reviews_topic(knee_client: httpx.Client, path: str) -> None:
    response = knee_client.get(path)
    assert response.status_code == 200
    found = sorted({m.group(0) for m in PAGE_WORDS.finditer(response.text)})
    assert found == [], path


def test_served_beside_the_bundled_map_each_keeps_its_own_concepts_and_facets(knee_map: Path) -> None:
    with TestClient(create_app(Settings(data=[bundled_map_dir(), knee_map]))) as client:
        knee = {f["name"] for f in client.get("/maps/knee-oa/api/facets").json()["facets"]}
        bundled = client.get("/maps/dufour-2025/api/facets").json()["facets"]
        assert "exercise-type" in knee and "exercise-type" not in {f["name"] for f in bundled}
        assert "psychoeducation" in {v["slug"] for f in bundled for v in f["values"]}
        for path in ("/", "/studies", "/api/facets", "/gapmap"):
            response = client.get(f"/maps/knee-oa{path}")
            assert response.status_code == 200, path
            assert sorted({m.group(0) for m in PAGE_WORDS.finditer(response.text)}) == [], path
