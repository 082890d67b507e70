"""The HTML pages: which template renders which page model, the JSON twin of each page, the facet and question
forms, DOI links, the review's attribution (read from the map) on every page, and the error page."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import jinja2
import pytest
from fastapi import FastAPI
from jinja2 import meta

from app_support import TestClient
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.reviews import example_questions, map_title
from evidencemap.settings import Settings
from evidencemap.web.app import create_app
from evidencemap.web.models import ClaimsPage, HomePage, ReviewPage, StudyDetail, StudyList
from evidencemap.web.templating import TEMPLATES_DIR, counted

HTML = {"accept": "text/html"}
MY_TEMPLATES = ["base.html", "home.html", "studies.html", "study.html", "concept.html", "review.html", "error.html",
                "study_macros.html", "review_claims.html"]
PAGES = ["/", "/ask?q=which+online+studies+reported+burnout", "/studies", "/studies?delivery=online",
         "/studies/jewell-2022", "/concepts/delivery/online", "/review", "/review/claims"]
REVIEW_TEXT = Path(__file__).resolve().parents[1] / "maps" / "dufour-2025" / "review.txt"


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text of the page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k.rstrip("_")) == v for k, v in attrs.items())]

    @property
    def content(self) -> str:
        return " ".join(" ".join(self.text).split())


def page(client: httpx.Client, path: str, status: int = 200) -> tuple[Any, Elements]:
    response = client.get(path, headers=HTML)
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    return response, Elements(response.text)


# -- each page: its template, its page model and its JSON twin ---------------------------------------------------


@pytest.mark.parametrize(
    ("path", "template", "model", "json_url"),
    [
        ("/", "home.html", HomePage, "/api/facets"),
        ("/ask?q=which+online+studies+reported+burnout", "home.html", HomePage,
         "/api/ask?q=which+online+studies+reported+burnout"),
        ("/studies?challenge=emotional-vulnerability-burnout&delivery=online", "studies.html", StudyList,
         "/api/studies?delivery=online&challenge=emotional-vulnerability-burnout"),
        ("/studies/jewell-2022", "study.html", StudyDetail, "/api/studies/jewell-2022"),
        ("/review", "review.html", ReviewPage, "/api/review"),
        ("/review/claims", "review_claims.html", ClaimsPage, "/api/review/claims"),
    ],
)
def test_page_renders_its_model_and_links_its_json(
    client: httpx.Client, path: str, template: str, model: type, json_url: str
) -> None:
    response, html = page(client, path)
    assert response.template.name == template
    assert isinstance(response.context["page"], model)
    assert response.context["json_url"] == json_url
    assert html.find("a", id="json-link", href=json_url)
    assert f"<{json_url}>" in response.headers["link"]
    assert client.get(json_url).status_code == 200


def test_concept_page_links_its_json(client: httpx.Client) -> None:
    response, html = page(client, "/concepts/challenge/emotional-vulnerability-burnout")
    assert response.template.name == "concept.html"
    assert html.find("a", id="json-link", href="/api/concepts/challenge/emotional-vulnerability-burnout")
    assert response.context["page"].total == 6


# -- forms -------------------------------------------------------------------------------------------------------


def test_home_has_the_question_box_and_the_facet_form(client: httpx.Client, app: FastAPI) -> None:
    _, html = page(client, "/")
    assert html.find("form", id="ask-form", method="get", action="/ask")
    assert html.find("input", id="q", name="q") and html.find("label", for_="q")
    assert html.find("form", id="facet-form", method="get", action="/studies")
    boxes = html.find("input", type="checkbox")
    expected = {(f.name, c.slug) for f in app.state.context.vocabulary.concept_facets for c in f.concepts}
    assert expected <= {(b["name"], b["value"]) for b in boxes}


def test_studies_page_ticks_the_chosen_facets(client: httpx.Client) -> None:
    response, html = page(client, "/studies?delivery=online")
    online = html.find("input", id="facet-delivery-online")
    assert online and "checked" in online[0] and online[0]["name"] == "delivery"
    assert "checked" not in html.find("input", id="facet-delivery-in-person")[0]
    assert response.context["page"].total == 6
    assert html.find("a", id="csv-link", href="/api/studies?delivery=online&format=csv")


def test_every_input_has_a_label(client: httpx.Client) -> None:
    for path in PAGES:
        _, html = page(client, path)
        labelled = {a["for"] for a in html.find("label")}
        inputs = [a for t, a in html.tags if t == "input" and a.get("type") != "hidden"]
        assert inputs == [] or all(a.get("id") in labelled for a in inputs), path


# -- content -----------------------------------------------------------------------------------------------------


def test_every_study_links_to_its_doi(client: httpx.Client) -> None:
    response, html = page(client, "/studies")
    hrefs = {a["href"] for a in html.find("a")}
    studies = response.context["page"].studies
    assert len(studies) == 11
    for study in studies:
        if study.doi:
            assert f"https://doi.org/{study.doi}" in hrefs, study.id
        assert f"/studies/{study.id}" in hrefs


def test_answer_page_shows_the_studies_and_how_the_question_was_read(client: httpx.Client) -> None:
    response, html = page(client, "/ask?q=which+online+studies+reported+burnout")
    answer = response.context["page"].answer
    assert [s.ref for s in answer.studies] == [40, 42, 44, 45]
    ids = {a.get("id") for _, a in html.tags}
    assert {"study-bates-2023", "study-dahlenburg-2024", "study-jewell-2022", "study-leon-2022"} <= ids
    assert "Studies with delivery online and challenge emotional vulnerability and burnout." in html.content
    assert html.find("a", id="open-filtered",
                     href="/studies?delivery=online&challenge=emotional-vulnerability-burnout")


def test_values_answer_page_lists_the_challenges(client: httpx.Client) -> None:
    _, html = page(client, "/ask?q=what+challenges+did+online+studies+report%3F")
    assert html.find("table", id="answer-values")
    assert "online and digital challenges" in html.content


def test_unrecognised_question_page_suggests_concepts(client: httpx.Client) -> None:
    _, html = page(client, "/ask?q=zumba")
    assert html.find("p", id="not-understood") and html.find("ul", id="suggestions")


def test_study_page_shows_every_fact_with_its_source(client: httpx.Client) -> None:
    response, html = page(client, "/studies/jewell-2022")
    detail = response.context["page"]
    assert html.find("a", id="doi-link", href="https://doi.org/10.1186/s40479-022-00203-y")
    assert len([a for a in html.find("div") if a.get("class") == "fact"]) == len(detail.facts)
    assert "Online and digital challenges (n = 4) were" in html.content
    assert "Why derived:" in html.content


def test_review_page_opens_with_its_bottom_line_and_draws_prisma_inline(client: httpx.Client) -> None:
    response, html = page(client, "/review")
    text = response.text
    conclusion = response.context["page"].conclusion
    review = " ".join(REVIEW_TEXT.read_text(encoding="utf-8").split())
    section_5 = review[review.index("5 Conclusion"):]
    assert conclusion, "the review's conclusion is shown"
    for c in conclusion:  # the review's own words, from its section 5, quoted before anything else
        assert c.section == "5" and c.section_title == "Conclusion"
        assert c.quote in section_5
        assert text.index(c.quote) < text.index('id="prisma-flow"')
    assert "predominance of qualitative studies" in html.content
    assert text.index('id="bottom-line"') < text.index("<dl")
    # PRISMA inline as SVG (no scaled image), with a link to the full-size drawing and the table of the same numbers
    assert not html.find("img") and html.find("svg", role="img")
    assert any(a["href"].startswith("/review/prisma.svg") for a in html.find("a", id="prisma-full-size"))
    assert html.find("table", id="prisma-flow")
    assert "2,114" in html.content and "2,048" in html.content
    assert "Medline (database)" in html.content and "#SearchSource" not in html.content  # dcterms:type, not rdf:type
    # the claims check is for curators: a summary and a link here, the table on its own page
    assert not html.find("table", id="claims") and html.find("a", id="claims-link", href="/review/claims")


def test_claims_page_has_every_claim_and_its_json_twin(client: httpx.Client) -> None:
    response, html = page(client, "/review/claims")
    claims = response.context["page"].claims
    assert len(claims) > 40 and f"({len(claims)} rows)" in html.content
    assert len([a for t, a in html.tags if t == "tr" and a.get("class", "").startswith("verdict-")]) == len(claims)
    body = client.get("/api/review/claims").json()
    assert [c["iri"] for c in body["claims"]] == [c.iri for c in claims]
    assert sum(body["claims_summary"].values()) == len(claims)
    assert client.get("/review/claims?format=json").json() == body


def test_study_cards_show_the_kind_of_evidence_as_badges(client: httpx.Client) -> None:
    """Design and evidence type on every card, short forms from the vocabulary (RCT, an altLabel in capitals),
    each with its strength of attribution; the year and the delivery."""
    response, _ = page(client, "/studies")
    studies = response.context["page"].studies
    cards = response.text.split('<article class="study"')[1:]
    assert len(cards) == len(studies) == 11
    for study, card in zip(studies, cards, strict=True):
        assert 'class="evidence-badges"' in card, study.id
        for value in study.facets["design"]:
            assert f'class="strength {value.support}"' in card
        assert f'<span class="year">{study.year}</span>' in card
    grenyer = cards[[s.id for s in studies].index("grenyer-2025")]
    assert re.search(r"</span>RCT</a>", grenyer), "the RCT's short form comes from its altLabel"
    assert "Delivery:" in grenyer and "Strength of attribution" in grenyer


def test_answers_and_lists_say_n_of_the_map_with_the_designs_counted(client: httpx.Client) -> None:
    """Section 3.3.3 names four online studies with burnout (40, 42, 44, 45): two qualitative studies (Dahlenburg,
    Jewell), a mixed-methods study (León) and Bates, by design as the map records it."""
    _, html = page(client, "/ask?q=which+online+studies+reported+burnout")
    assert "4 of 11 studies" in html.content
    _, listed = page(client, "/studies?delivery=online&challenge=emotional-vulnerability-burnout")
    assert "4 of 11 studies" in listed.content
    summary = listed.content[listed.content.index("4 of 11 studies"):][:200]
    assert re.search(r"qualitative study \(\d\)", summary)
    _, concept = page(client, "/concepts/delivery/online")
    assert "6 of 11 studies" in concept.content


def test_clinician_pages_do_not_say_facet(client: httpx.Client) -> None:
    for path in PAGES:
        _, html = page(client, path)
        assert not re.search(r"\bfacets?\b", html.content, re.IGNORECASE), path


@pytest.mark.parametrize("path", PAGES)
def test_attribution_and_licence_on_every_page(client: httpx.Client, path: str) -> None:
    _, html = page(client, path)
    assert html.find("a", rel="license", href="https://creativecommons.org/licenses/by/4.0/")
    assert html.find("a", href="https://doi.org/10.3389/fpsyt.2025.1663685")
    assert "Dufour A-S, Nadeau L and Cailhol L" in html.content
    assert len(html.find("h1")) == 1


def test_attribution_is_read_from_the_map(tmp_path: Path) -> None:
    review = tmp_path / "review.ttl"
    review.write_text(
        """@prefix evm: <https://w3id.org/evidencemap/ontology#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<https://w3id.org/evidencemap/data/review/other-2030> a evm:ScopingReview ;
    dcterms:title "Another review"@en ; evm:authors "Other A" ;
    dcterms:license <https://example.org/licence> .
""",
        encoding="utf-8",
    )
    settings = Settings(data=[review])
    other = create_app(settings, EvidenceMap.load(settings))
    html = Elements(TestClient(other).get("/studies", headers=HTML).text)
    assert "Another review" in html.content and "Other A" in html.content
    assert html.find("a", rel="license", href="https://example.org/licence")
    assert "Dufour" not in html.content


# -- errors ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status", "needle"),
    [
        ("/studies/nope", 404, "No study 'nope'"),
        ("/ask?q=", 400, "The question is empty."),
        ("/studies?color=red", 400, "Unknown facet 'color'."),
        ("/concepts/delivery/moon", 404, "No concept 'moon'"),
        ("/studies?limit=abc", 422, "limit"),
    ],
)
def test_errors_are_pages_for_browsers(client: httpx.Client, path: str, status: int, needle: str) -> None:
    response, html = page(client, path, status=status)
    assert response.template.name == "error.html"
    assert needle in html.content
    assert html.find("h1", id="error-status")


@pytest.mark.parametrize(
    ("accept", "page_wanted"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        ("application/json;q=0.5, text/html", True),
        ("text/html;q=0.5, application/json", False),
        ("text/html, application/json", False),  # a tie: JSON
        ("*/*", False),
        ("image/png", False),
    ],
)
def test_errors_follow_the_accept_preference(client: httpx.Client, accept: str, page_wanted: bool) -> None:
    response = client.get("/studies/nope", headers={"accept": accept})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html" if page_wanted else "application/json")


# -- the contract between templates and page models ---------------------------------------------------------------

CONTEXT_KEYS = {"page", "json_url", "title", "site", "facet_labels", "request", "status", "message", "hint",
                "page_url", "edition", "how_to_cite", "example_questions", "root", "several_maps",
                # pages.evidence_context: the kind of evidence at a glance; the review page's inline PRISMA drawing
                "map_total", "kinds", "badge_text", "evidence_facets", "support_names", "prisma",
                # web/maps.py: the other maps' reviews that include the same study (the study page)
                "other_reviews"}
GLOBALS = {"url_for", "licence_text", "urlencode", "range", "dict", "lipsum", "cycler", "joiner", "namespace",
           "citation_url", "citation_links"}


@pytest.mark.parametrize("name", MY_TEMPLATES)
def test_templates_use_only_documented_context_keys(name: str) -> None:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR))
    environment.filters["counted"] = counted
    macros_source = (TEMPLATES_DIR / "study_macros.html").read_text(encoding="utf-8")
    macros = {m.name for m in environment.parse(macros_source).find_all(jinja2.nodes.Macro)}
    source = (TEMPLATES_DIR / name).read_text(encoding="utf-8")
    # imported macros are reported as undeclared too
    undeclared = meta.find_undeclared_variables(environment.parse(source)) - macros
    assert undeclared <= CONTEXT_KEYS | GLOBALS, undeclared - CONTEXT_KEYS - GLOBALS


# -- the site's title comes from the map ---------------------------------------------------------------------------


def test_home_page_title_is_the_map_editions_title(client: httpx.Client, bundled: EvidenceMap) -> None:
    title = map_title(bundled)
    assert title == "Peer support evidence"  # dcterms:title of the map edition in maps/dufour-2025/review.ttl
    response, _ = page(client, "/")
    assert f"<title>{title} · evidencemap</title>" in response.text
    assert not any("Peer support" in p.read_text(encoding="utf-8") for p in Path(__file__).parents[1].joinpath(
        "src", "evidencemap", "web").rglob("*.py"))


# -- the focus ring is visible (WCAG 1.4.11: 3:1 against what is next to it) ----------------------------------------

STATIC_DIR = TEMPLATES_DIR.parent / "static"


def relative_luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of a ``#rrggbb`` or ``#rgb`` colour."""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    channels = [int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    darker, lighter = sorted((relative_luminance(first), relative_luminance(second)))
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_formula_matches_known_ratios() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#ffbf47", "#ffffff") == pytest.approx(1.64, abs=0.01)  # issue 11's amber ring on white
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def css_variables(css: str) -> dict[str, str]:
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{3,6})\b", css))


def background_colours(css: str, variables: dict[str, str]) -> set[str]:
    """Every colour a rule paints as a background, except buttons' (their ring is drawn outside them)."""
    colours: set[str] = set()
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        if "button" in selectors or ":root" in selectors:
            continue
        for value in re.findall(r"background(?:-color)?:\s*([^;]+)", body):
            variable = re.match(r"var\(--([\w-]+)\)", value.strip())
            colour = variables.get(variable.group(1)) if variable else value.strip()
            if colour and re.fullmatch(r"#[0-9a-fA-F]{3,6}", colour):
                colours.add(colour)
    return colours


def test_focus_ring_has_3_to_1_contrast_with_every_background() -> None:
    style = (STATIC_DIR / "style.css").read_text(encoding="utf-8")
    variables = css_variables(style)
    backgrounds = background_colours(style, variables) | background_colours(
        (STATIC_DIR / "visuals.css").read_text(encoding="utf-8"), variables)
    header = variables["accent-dark"]
    assert re.search(r"header\.site\s*\{\s*background:\s*var\(--accent-dark\)", style)
    light = {b for b in backgrounds if b != header}
    assert {"#ffffff", "#f3f5f7", "#fff4e5"} <= light
    assert re.search(r"a:focus-visible[^{]*\{\s*outline:\s*3px solid var\(--focus\)", style)
    too_faint = {b: round(contrast(variables["focus"], b), 2) for b in light if contrast(variables["focus"], b) < 3}
    assert not too_faint, f"focus ring {variables['focus']} is under 3:1 against {too_faint}"
    assert contrast(variables["focus-on-dark"], header) >= 3


# -- plural forms: "1 study", never "1 studies" ----------------------------------------------------------------------

COUNTED_PAGES = [*PAGES, "/studies?q=Jewell", "/ask?q=what+challenges+did+online+studies+report",
                 "/ask?q=how+many+studies+used+art+therapy", "/gapmap", "/network", "/validation"]
PLURAL_AFTER_ONE = re.compile(r"(?<![\d.,])1 (studies|values|results|concepts|links|facets|violations)\b")


def test_one_is_never_followed_by_a_plural(client: httpx.Client) -> None:
    singular_seen = False
    for path in COUNTED_PAGES:
        _, elements = page(client, path)
        labels = [attrs[k] for _, attrs in elements.tags for k in ("aria-label", "title", "alt") if k in attrs]
        shown = " | ".join([elements.content, *labels])
        assert not PLURAL_AFTER_ONE.search(shown), f"{path}: {PLURAL_AFTER_ONE.search(shown)}"
        singular_seen = singular_seen or bool(re.search(r"(?<![\d.,])1 study\b", shown))
    assert singular_seen, "no page counted a single study: the pages checked no longer show a count of 1"


def test_counted_filter_picks_the_form() -> None:
    assert counted(1, "study", "studies") == "1 study"
    assert counted(0, "study", "studies") == "0 studies"
    assert counted(2, "value") == "2 values"


# -- example questions: from the map, each one understood ----------------------------------------------------------


def test_home_offers_the_maps_example_questions_each_understood(client: httpx.Client, bundled: EvidenceMap) -> None:
    examples = example_questions(bundled)
    assert len(examples) == 3  # evm:exampleQuestion of the map edition in maps/dufour-2025/review.ttl
    _, elements = page(client, "/")
    links = [a["href"] for a in elements.find("a") if a.get("href", "").startswith("/ask?")]
    assert links == ["/ask?" + urlencode({"q": q}) for q in examples]
    for question in examples:
        answer = client.get("/api/ask", params={"q": question}).json()
        assert answer["understanding"] == "understood", (question, answer["interpretation"])
    # the map's words, not the site's: in neither the templates nor the code that renders the home page
    sources = [*TEMPLATES_DIR.glob("*.html"), TEMPLATES_DIR.parent / "pages.py", TEMPLATES_DIR.parent / "templating.py"]
    assert not any(q in path.read_text(encoding="utf-8") for q in examples for path in sources)


def test_answer_page_leaves_the_examples_out(client: httpx.Client) -> None:
    _, elements = page(client, "/ask?q=which+online+studies+reported+burnout")
    assert not elements.find("section", id="examples")


@pytest.mark.parametrize("path", [*PAGES, "/network", "/concepts/delivery/online?support=cited"])
def test_every_link_stays_under_a_mounted_map(client: httpx.Client, path: str) -> None:
    """Under /maps/{slug} every internal link of a page (cards, badges, counts, pairs, footer) starts with it:
    templates write {{ root }}, page models build their URLs under the site answering the request, and the macros
    are imported with the context that carries root."""
    mounted = "/maps/dufour-2025"
    _, html = page(client, mounted + path)
    internal = [a["href"] for a in html.find("a") if a.get("href", "").startswith("/")]
    assert internal, path
    outside = [h for h in internal if not h.startswith(mounted + "/")]
    assert not outside, f"{path}: {outside[:5]}"
