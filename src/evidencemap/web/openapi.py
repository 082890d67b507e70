"""The published OpenAPI document, api/openapi.json, generated from the app so that it cannot drift from it.

Regenerate after changing any route or model::

    python -m evidencemap.web.openapi          # writes api/openapi.json
    python -m evidencemap.web.openapi --check  # exits 1 when api/openapi.json differs from the app

tests/test_api_openapi.py fails when the two differ.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..resources import resource_dir
from ..settings import Settings


def openapi_path() -> Path:
    return resource_dir("api") / "openapi.json"


def current_document() -> dict[str, Any]:
    """The OpenAPI document of the app serving the bundled map with default settings."""
    from .app import create_app

    return create_app(Settings()).openapi()


def comparable(document: dict[str, Any]) -> dict[str, Any]:
    """The document without the operation ids that several operations share.

    FastAPI derives one route's operation id from the first of its methods, a set whose order changes with Python's
    hash seed: a route serving GET and POST (as /sparql does) gets "..._get" in one process and "..._post" in
    another, for both operations (FastAPI warns "Duplicate Operation ID"). Dropping such ids keeps the comparison
    stable until that route declares its own ids.
    """
    operations = [op for item in document.get("paths", {}).values() for op in item.values() if isinstance(op, dict)]
    ids = [op.get("operationId") for op in operations]
    shared = {i for i in ids if i is not None and ids.count(i) > 1}
    copy = json.loads(json.dumps(document))
    for item in copy.get("paths", {}).values():
        for op in item.values():
            if isinstance(op, dict) and op.get("operationId") in shared:
                del op["operationId"]
    return copy


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evidencemap.web.openapi", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when the file is out of date")
    parser.add_argument("--output", type=Path, default=None, help="where to write (default: api/openapi.json)")
    args = parser.parse_args(argv)
    target = args.output or openapi_path()
    document = current_document()
    if args.check:
        stored = json.loads(target.read_text(encoding="utf-8")) if target.exists() else None
        if stored is None or comparable(stored) != comparable(document):
            print(f"{target} is out of date; run: python -m evidencemap.web.openapi", file=sys.stderr)
            return 1
        print(f"{target} is up to date")
        return 0
    target.write_text(render(document), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
