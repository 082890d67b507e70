"""Accept with q-values and the format parameter, with separate tables for tabular, boolean and graph results."""

from __future__ import annotations

import pytest

from evidencemap.errors import BadRequest, NotAcceptable
from evidencemap.web.negotiation import (
    OFFERS,
    choose,
    media_types,
    negotiate,
    not_acceptable,
    parse_accept,
    preferred,
    quality,
)

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
SPARQLWRAPPER_JSON = "application/sparql-results+json,application/json,text/javascript,application/javascript"


def _types(accept: str | None) -> dict[str, str]:
    return {kind: offer.media_type for kind, offer in negotiate(accept).items()}


def test_negotiate_without_accept_uses_server_defaults() -> None:
    assert _types(None) == {"tabular": "application/sparql-results+json",
                            "boolean": "application/sparql-results+json", "graph": "text/turtle"}
    assert _types("*/*") == _types(None)


def test_negotiate_browser_gets_html_everywhere() -> None:
    assert set(_types(BROWSER).values()) == {"text/html"}


def test_negotiate_q_values_decide() -> None:
    chosen = _types("text/csv;q=0.4, application/sparql-results+xml;q=0.9, text/turtle;q=0.2, application/rdf+xml")
    assert chosen == {"tabular": "application/sparql-results+xml", "boolean": "application/sparql-results+xml",
                      "graph": "application/rdf+xml"}


def test_negotiate_tabular_and_graph_tables_are_separate() -> None:
    chosen = _types("text/csv, application/n-triples")
    assert chosen == {"tabular": "text/csv", "graph": "application/n-triples"}  # no boolean in CSV


def test_negotiate_q_zero_excludes_a_type() -> None:
    chosen = _types("*/*, application/sparql-results+json;q=0")
    assert chosen["tabular"] == "application/sparql-results+xml"


def test_negotiate_most_specific_range_sets_the_quality() -> None:
    ranges = parse_accept("text/*;q=0.3, text/csv;q=0.9, */*;q=0.1")
    assert quality(ranges, "text/csv") == 0.9
    assert quality(ranges, "text/turtle") == 0.3
    assert quality(ranges, "application/ld+json") == 0.1


def test_negotiate_sparqlwrapper_json_gets_sparql_json() -> None:
    assert _types(SPARQLWRAPPER_JSON)["tabular"] == "application/sparql-results+json"


def test_negotiate_aliases_answer_with_their_own_type() -> None:
    assert _types("text/plain")["graph"] == "text/plain"
    assert negotiate("text/plain")["graph"].serialiser == "nt"


def test_negotiate_nothing_acceptable_is_406_listing_types() -> None:
    with pytest.raises(NotAcceptable) as caught:
        negotiate("image/png")
    assert "text/csv" in str(caught.value) and "text/turtle" in str(caught.value)


def test_parse_accept_skips_malformed_parts() -> None:
    assert [(r.type, r.subtype, r.q) for r in parse_accept("garbage, text/csv;q=abc, text/turtle;q=2")] == [
        ("text", "csv", 0.0), ("text", "turtle", 1.0)]


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("csv", {"tabular": "text/csv"}),
        ("JSON", {"tabular": "application/sparql-results+json", "boolean": "application/sparql-results+json",
                  "graph": "application/ld+json"}),
        ("turtle", {"graph": "text/turtle"}),
        ("text/tab-separated-values", {"tabular": "text/tab-separated-values"}),
        ("html", {"tabular": "text/html", "boolean": "text/html", "graph": "text/html"}),
    ],
)
def test_negotiate_format_parameter_overrides_accept(fmt: str, expected: dict[str, str]) -> None:
    chosen = {kind: offer.media_type for kind, offer in negotiate("application/rdf+xml", fmt).items()}
    assert chosen == expected


def test_negotiate_unknown_format_is_400_listing_formats() -> None:
    with pytest.raises(BadRequest) as caught:
        negotiate(None, "excel")
    assert "csv" in str(caught.value) and "turtle" in str(caught.value)


def test_choose_breaks_ties_by_server_order() -> None:
    offer = choose(OFFERS["graph"], parse_accept("application/rdf+xml, text/turtle"))
    assert offer is not None and offer.media_type == "text/turtle"


def test_media_types_lists_each_once() -> None:
    listed = media_types()
    assert len(listed) == len(set(listed)) and "application/sparql-results+json" in listed


# -- the same parser for /api, the linked-data documents and the error pages ---------------------------------------

API = ("application/json", "application/ld+json", "text/csv")


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/ld+json", "application/ld+json"),
        ("application/json;q=0.5, application/ld+json", "application/ld+json"),
        ("application/ld+json, application/json", "application/json"),  # a tie: the server's order
        ("text/*;q=0.9, */*;q=0.1", "text/csv"),
        ("*/*, application/json;q=0", "application/ld+json"),
        (BROWSER, "application/json"),
        ("image/png", None),
    ],
)
def test_preferred_reads_q_values_and_breaks_ties_by_the_offer_order(accept: str | None, expected: str | None) -> None:
    assert preferred(accept, API) == expected


def test_not_acceptable_names_the_header_and_what_would_do() -> None:
    error = not_acceptable(" image/png ", API)
    assert isinstance(error, NotAcceptable) and error.status == 406
    assert error.message == "Cannot answer with 'image/png'."
    assert error.hint == "Use one of: application/json, application/ld+json, text/csv."


def test_format_and_accept_errors_carry_the_valid_choices() -> None:
    with pytest.raises(BadRequest) as unknown:
        negotiate(None, "excel")
    assert {"csv", "turtle", "html"} <= set(unknown.value.allowed)
    with pytest.raises(NotAcceptable) as refused:
        negotiate("image/png")
    assert list(refused.value.allowed) == media_types()
