"""The published OpenAPI document, api/openapi.json, must be the app's.

Regenerate it with ``python -m evidencemap.web.openapi``."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from fastapi import FastAPI

from evidencemap.web.openapi import openapi_path


@pytest.fixture(scope="module")
def document(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def test_openapi_document_matches_the_app(document: dict[str, Any]) -> None:
    stored = json.loads(openapi_path().read_text(encoding="utf-8"))
    assert stored == document, "api/openapi.json is out of date: run `python -m evidencemap.web.openapi`"


def test_openapi_documents_the_clinician_endpoints_with_examples(document: dict[str, Any]) -> None:
    for path in ("/api/facets", "/api/studies", "/api/studies/{study_id}", "/api/concepts/{scheme}/{slug}",
                 "/api/review", "/api/ask"):
        operation = document["paths"][path]["get"]
        assert operation["description"], path
        assert "400" in operation["responses"] and "404" in operation["responses"], path
    studies = document["paths"]["/api/studies"]["get"]
    assert {"application/json", "application/ld+json", "text/csv"} <= set(studies["responses"]["200"]["content"])
    schema = document["components"]["schemas"]["Study"]["properties"]
    assert schema["ref"]["description"] and schema["ref"]["examples"] == [44]


def test_openapi_operation_ids_are_unique(document: dict[str, Any]) -> None:
    """Unique ids are stable ones: FastAPI gives a route serving several methods one id, taken from whichever method
    its set yields first, which changes with Python's hash seed (so /sparql declares one route per method)."""
    ids = Counter(op["operationId"] for item in document["paths"].values() for op in item.values())
    assert [i for i, n in ids.items() if n > 1] == []
    assert document["paths"]["/sparql"]["get"]["operationId"] != document["paths"]["/sparql"]["post"]["operationId"]
