"""Where the bundled vocabulary, shapes, named queries and maps live.

In a wheel they are packaged under ``evidencemap/resources``; in a source checkout (editable install) they are the
top-level folders of the repository. Both layouts are looked up in that order.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_RESOURCES = Path(__file__).resolve().parent / "resources"
_REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


def resource_dir(name: str) -> Path:
    """The folder of a bundled resource: ``ontology``, ``shapes``, ``api`` or ``maps``.

    :raises FileNotFoundError: when the installation holds neither layout.
    """
    for root in (_PACKAGE_RESOURCES, _REPOSITORY_ROOT):
        candidate = root / name
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"evidencemap resource folder {name!r} is missing from this installation")


def vocabulary_files() -> list[Path]:
    """The ontology, its facets and every concept scheme, in a stable order."""
    root = resource_dir("ontology")
    return sorted(root.glob("*.ttl")) + sorted((root / "schemes").glob("*.ttl"))


def shapes_files() -> list[Path]:
    return sorted(resource_dir("shapes").glob("*.ttl"))


def bundled_map_dir() -> Path:
    """The folder of the map served by default: the Dufour et al. 2025 review."""
    return resource_dir("maps") / "dufour-2025"


def named_queries_dir() -> Path:
    return resource_dir("api") / "queries"
