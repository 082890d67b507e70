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

from evidencemap.resources import resource_dir
from evidencemap.settings import Settings


def openapi_path() -> Path:
    return resource_dir("api") / "openapi.json"


def current_document() -> dict[str, Any]:
    """The OpenAPI document of the app serving the bundled map with default settings."""
    from evidencemap.web.app import create_app

    return create_app(Settings()).openapi()


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
        if stored != document:
            print(f"{target} is out of date; run: python -m evidencemap.web.openapi", file=sys.stderr)
            return 1
        print(f"{target} is up to date")
        return 0
    target.write_text(render(document), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
