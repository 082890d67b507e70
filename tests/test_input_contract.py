"""The input contract of the web layer (web/inputs.py, docs/api.md "Errors"): the same mistake gets the same status
and the same error body on every endpoint, and no bad input is a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from evidencemap.errors import InvalidParameter
from evidencemap.web.inputs import checked_iri, choices_checked, hinted

# Every JSON endpoint, with a request that succeeds.
JSON_ENDPOINTS = {
    "facets": "/api/facets",
    "studies": "/api/studies",
    "study": "/api/studies/jewell-2022",
    "concept": "/api/concepts/delivery/online",
    "review": "/api/review",
    "ask": "/api/ask?q=burnout",
    "gapmap": "/api/gapmap",
    "networks": "/api/network",
    "network": "/api/network/challenge-cooccurrence",
}
FILTERED = ("studies", "gapmap", "network")  # the endpoints whose parameters are facet filters
PAGED = ("studies", "concept", "ask")  # the endpoints that take limit and offset
PAGES = ("/", "/studies", "/studies/jewell-2022", "/concepts/delivery/online", "/review", "/gapmap", "/network",
         "/ask?q=burnout")
ERROR_KEYS = {"ok", "error", "status", "hint", "allowed"}


def with_param(url: str, param: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{param}"


def error(response: httpx.Response, status: int) -> dict[str, Any]:
    """The body of an error response, checked against the one error shape."""
    assert response.status_code == status, (response.request.url, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers["content-type"]
    body: dict[str, Any] = response.json()
    assert set(body) <= ERROR_KEYS and {"ok", "error", "status"} <= set(body), body
    assert body["ok"] is False and body["status"] == status and body["error"].strip()
    assert isinstance(body.get("hint", ""), str)
    assert all(isinstance(a, str) for a in body.get("allowed", [])), body
    return body


@pytest.mark.parametrize("name", JSON_ENDPOINTS)
def test_every_json_endpoint_answers_its_good_request(client: httpx.Client, name: str) -> None:
    assert client.get(JSON_ENDPOINTS[name]).status_code == 200


@pytest.mark.parametrize("name", FILTERED)
def test_unknown_facet_is_400_listing_the_facets(client: httpx.Client, name: str) -> None:
    body = error(client.get(with_param(JSON_ENDPOINTS[name], "color=red")), 400)
    assert body["error"] == "Unknown facet 'color'."
    assert {"delivery", "challenge"} <= set(body["allowed"])


@pytest.mark.parametrize("name", FILTERED)
def test_unknown_value_is_400_listing_the_values(client: httpx.Client, name: str) -> None:
    body = error(client.get(with_param(JSON_ENDPOINTS[name], "delivery=moon")), 400)
    assert body["error"] == "Unknown value 'moon' for facet 'delivery'."
    assert "online" in body["allowed"]


@pytest.mark.parametrize("name", FILTERED)
def test_value_of_the_wrong_type_is_422(client: httpx.Client, name: str) -> None:
    body = error(client.get(with_param(JSON_ENDPOINTS[name], "year=abc")), 422)
    assert body["error"] == "Facet 'year' takes years such as 2022, not 'abc'."


@pytest.mark.parametrize("name", PAGED)
@pytest.mark.parametrize("limit", ["abc", "0", "-3", "100000", "99999999999999999999999"])
def test_bad_limit_is_422(client: httpx.Client, name: str, limit: str) -> None:
    body = error(client.get(with_param(JSON_ENDPOINTS[name], f"limit={limit}")), 422)
    assert "limit" in body["error"]


@pytest.mark.parametrize("name", JSON_ENDPOINTS)
def test_unknown_format_is_400_listing_the_formats(client: httpx.Client, name: str) -> None:
    body = error(client.get(with_param(JSON_ENDPOINTS[name], "format=xyz")), 400)
    assert body["error"] == "Unknown format 'xyz'."
    assert "json" in body["allowed"]


@pytest.mark.parametrize("name", JSON_ENDPOINTS)
def test_nothing_acceptable_is_406_listing_the_media_types(client: httpx.Client, name: str) -> None:
    body = error(client.get(JSON_ENDPOINTS[name], headers={"accept": "image/png"}), 406)
    assert "application/json" in body["allowed"]


@pytest.mark.parametrize(
    ("url", "missing"),
    [("/api/studies/nope", "'nope'"), ("/api/concepts/delivery/moon", "'moon'"),
     ("/api/concepts/nope/online", "'nope'"), ("/api/network/nope", "'nope'"),
     ("/data/dufour-2025/study/nope", "/data/dufour-2025/study/nope>"),
     ("/concept/delivery/moon", "/concept/delivery/moon>"), ("/ontology/9.9.9", "/ontology/9.9.9>"),
     ("/graph/nope", "/graph/nope>"), ("/dumps/nope.ttl", "'nope.ttl'")],
)
def test_unknown_resource_is_404(client: httpx.Client, url: str, missing: str) -> None:
    body = error(client.get(url), 404)
    assert body["error"].startswith("No ") and missing in body["error"], body


@pytest.mark.parametrize(
    "path",
    ["/data/dufour-2025/study/foo%20bar", "/concept/a%20b", "/data/dufour-2025/study/%3Cx%3E",
     "/data/dufour-2025/study/a%22b", "/concept/a%7Bb%7D",
     "/data/a%7Cb", "/data/a%5Cb", "/data/a%5Eb", "/data/a%60b", "/data/a%01b", "/data/a%7Fb", "/data/a%25ZZ",
     "/ontology/x%20y", "/graph/a%20b", "/data/dufour-2025/study/foo%20bar.ttl", "/concept/a%20b.html"],
)
def test_path_that_makes_no_iri_is_404_not_500(client: httpx.Client, path: str) -> None:
    for accept in ("text/turtle", "text/html", "application/json"):
        response = client.get(path, headers={"accept": accept}, follow_redirects=False)
        assert response.status_code == 404, (path, response.text)
    body = error(client.get(path, headers={"accept": "application/json"}), 404)
    assert "valid IRI" in body["error"]


def test_space_in_a_study_iri_is_404_with_a_clear_message(client: httpx.Client) -> None:
    """Regression: GET /data/dufour-2025/study/foo%20bar answered 500 (pyoxigraph refused the IRI)."""
    body = error(client.get("/data/dufour-2025/study/foo%20bar"), 404)
    assert body["error"] == (
        "Nothing at '/data/dufour-2025/study/foo bar': it does not make a valid IRI (' ' cannot appear in an IRI)."
    )


def test_space_in_a_concept_iri_is_404(client: httpx.Client) -> None:
    """Regression: GET /concept/a%20b answered 500."""
    body = error(client.get("/concept/a%20b"), 404)
    assert body["error"] == "Nothing at '/concept/a b': it does not make a valid IRI (' ' cannot appear in an IRI)."


@pytest.mark.parametrize(
    ("query", "status"),
    [("color=red", 400), ("delivery=moon", 400), ("limit=abc", 422), ("format=xyz", 400), ("year=abc", 422)],
)
def test_pages_refuse_bad_input_like_the_api(client: httpx.Client, query: str, status: int) -> None:
    error(client.get(f"/studies?{query}"), status)
    assert client.get(f"/studies?{query}", headers={"accept": "text/html"}).status_code == status


@pytest.mark.parametrize(
    ("url", "status"),
    [("/gapmap?delivery=moon", 400), ("/gapmap?rows=colour", 400), ("/network?kind=nope", 400),
     ("/network?layout=nope", 400), ("/network?color=red", 400), ("/gapmap?format=xyz", 400)],
)
def test_visual_pages_refuse_bad_input_like_the_api(client: httpx.Client, url: str, status: int) -> None:
    body = error(client.get(url), status)
    assert body["error"].startswith("Unknown ") and body["allowed"], body


@pytest.mark.parametrize("url", PAGES)
def test_every_page_has_a_json_twin(client: httpx.Client, url: str) -> None:
    page = client.get(url, headers={"accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    link = page.headers["link"]
    assert link.startswith("<") and '; rel="alternate"; type="application/json"' in link
    twin = client.get(link[1:link.index(">")])
    assert twin.status_code == 200 and twin.headers["content-type"].startswith("application/json")
    as_json = client.get(url, headers={"accept": "application/json"})
    for response in (client.get(with_param(url, "format=json")), as_json):
        assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
        assert response.headers["link"] == link


@pytest.mark.parametrize("url", PAGES)
def test_every_page_refuses_an_unacceptable_accept_with_406(client: httpx.Client, url: str) -> None:
    body = error(client.get(url, headers={"accept": "image/png"}), 406)
    assert body["error"] == "Cannot answer with 'image/png'." and "text/html" in body["allowed"]


@pytest.mark.parametrize("url", ["/data/dufour-2025/study/blay-2025.html", "/ontology.html", "/validation"])
def test_linked_data_pages_render_page_models(client: httpx.Client, url: str) -> None:
    response = client.get(url, headers={"accept": "text/html"})
    assert response.status_code == 200
    assert hasattr(response.context["page"], "model_dump")  # type: ignore[attr-defined]


def test_sparql_agrees_on_unknown_format_and_accept(client: httpx.Client) -> None:
    """/sparql keeps the SPARQL 1.1 Protocol's own rules, but these two mistakes get the common status and shape."""
    unknown = error(client.get("/sparql", params={"query": "ASK {}", "format": "xyz"}), 400)
    assert unknown["error"] == "Unknown format 'xyz'." and "json" in unknown["allowed"]
    refused = error(client.get("/sparql", params={"query": "ASK {}"}, headers={"accept": "image/png"}), 406)
    assert refused["error"] == "Cannot answer with 'image/png'."
    assert "application/sparql-results+json" in refused["allowed"]


def test_hint_lists_become_allowed() -> None:
    assert hinted("Use one of: a, b, c.") == ("a", "b", "c")
    assert hinted("Use one of: json, xml (or a media type such as text/csv).") == ("json", "xml")
    assert hinted("Use at most 1000.") == ()
    assert hinted(None) == ()


def test_core_choice_errors_become_400_and_type_errors_stay_422() -> None:
    with pytest.raises(Exception) as unknown, choices_checked():
        raise InvalidParameter("Unknown facet 'x'.", hint="Use one of: a, b.")
    assert getattr(unknown.value, "status", None) == 400 and getattr(unknown.value, "allowed", None) == ("a", "b")
    with pytest.raises(InvalidParameter) as wrong_type, choices_checked():
        raise InvalidParameter("Facet 'year' takes years such as 2022, not 'x'.")
    assert wrong_type.value.status == 422


@pytest.mark.parametrize("iri", ["https://w3id.org/evidencemap/data/dufour-2025/study/blay-2025",
                                 "https://w3id.org/evidencemap/data/review/dufour-2025/section/3.3.1",
                                 "https://w3id.org/evidencemap/data/dufour-2025/study/%C3%A9"])
def test_valid_iris_pass_the_check(iri: str) -> None:
    assert checked_iri(iri, "/x") == iri
