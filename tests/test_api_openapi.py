"""The published OpenAPI document, api/openapi.json, must be the app's.

Regenerate it with ``python -m evidencemap.web.openapi``."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
from fastapi import FastAPI

from evidencemap.web.openapi import comparable, openapi_path


@pytest.fixture(scope="module")
def document(app: FastAPI) -> dict[str, Any]:
    with warnings.catch_warnings():
        # /sparql is one function for GET and POST, which FastAPI reports as a duplicate operation id
        warnings.filterwarnings("ignore", message="Duplicate Operation ID", category=UserWarning)
        return app.openapi()


def test_openapi_document_matches_the_app(document: dict[str, Any]) -> None:
    stored = json.loads(openapi_path().read_text(encoding="utf-8"))
    assert comparable(stored) == comparable(document), (
        "api/openapi.json is out of date: run `python -m evidencemap.web.openapi`"
    )


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


def test_openapi_comparison_sees_a_change_but_not_a_shared_operation_id(document: dict[str, Any]) -> None:
    changed = json.loads(json.dumps(document))
    changed["paths"]["/api/studies"]["get"]["summary"] = "something else"
    assert comparable(changed) != comparable(document)
    shared = {"paths": {"/x": {"get": {"operationId": "x_get"}, "post": {"operationId": "x_get"}}}}
    flipped = {"paths": {"/x": {"get": {"operationId": "x_post"}, "post": {"operationId": "x_post"}}}}
    assert comparable(shared) == comparable(flipped)
