"""The layering rule, checked on the source: a module imports only from its own layer or lower ones.

Layers, lowest first: the foundation (the package root's modules: ``evidencemap``, ``namespaces``, ``settings``,
``errors``, ``resources``) < ``graph`` < ``sparql`` and ``model`` < ``views`` < ``render`` < ``publish`` < ``web`` <
``cli``. ``sparql`` and ``model`` share a level and do not import each other. ``cli`` is the outermost entry point:
its ``serve`` command starts the web app, so it may import ``web``, never the other way round. Only
``web`` imports the web frameworks (FastAPI, Starlette, Pydantic, Jinja2), so everything else stays usable from
Python, the command line and the tests alike. Every import counts: at the top of a module, inside a function, or
under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = "evidencemap"
SOURCE = Path(__file__).resolve().parents[1] / "src" / PACKAGE

# Each layer's level; layers on one level are siblings and may not import each other.
LEVELS = {
    "foundation": 0,
    "graph": 1,
    "sparql": 2,
    "model": 2,
    "views": 3,
    "authoring": 3,
    "render": 4,
    "publish": 5,
    "web": 6,
    "cli": 7,
}
FOUNDATION = {"namespaces", "settings", "errors", "resources"}
WEB_FRAMEWORKS = {"fastapi", "starlette", "pydantic", "jinja2"}


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    statement: str
    reason: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.statement}  ({self.reason})"


def layer_of(module: str) -> str:
    """The layer of a module of the package, by its dotted name (``evidencemap.graph.store`` is in ``graph``)."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        raise ValueError(f"{module} is not a module of {PACKAGE}")
    if len(parts) == 1 or parts[1] in FOUNDATION:
        return "foundation"
    if parts[1] not in LEVELS:
        raise ValueError(f"{module} is in no layer: add its folder to LEVELS in tests/test_layers.py")
    return parts[1]


def layer_of_import(target: str) -> str:
    """The layer an imported name of the package is in: ``evidencemap.graph`` (or anything in it) is in ``graph``;
    a name defined in the package's ``__init__`` (``evidencemap.__version__``) is in the foundation."""
    parts = target.split(".")
    if len(parts) == 1 or parts[1] in LEVELS or parts[1] in FOUNDATION:
        return layer_of(".".join(parts[:2]))
    if (SOURCE / parts[1]).is_dir() or (SOURCE / f"{parts[1]}.py").is_file():
        return layer_of(".".join(parts[:2]))  # a module in no layer: layer_of says so
    return "foundation"


def imported_modules(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The modules an import statement loads, absolute; ``from a import b`` names ``a.b`` too, since b may be a
    module (``layer_of`` only looks at the first two parts, so a name inside ``a`` costs nothing)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        anchor = package[: len(package) - node.level + 1]
        base = ".".join([*anchor, base]) if base else ".".join(anchor)
    return [base] + [f"{base}.{alias.name}" for alias in node.names if alias.name != "*"]


def violations(module: str, source: str, *, is_package: bool = False) -> list[Violation]:
    """Every import in ``source`` (the text of ``module``) that breaks the layering rule."""
    layer = layer_of(module)
    found: list[Violation] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        statement = ast.unparse(node)
        reasons: set[str] = set()
        for target in imported_modules(node, module, is_package):
            top = target.split(".")[0]
            if top in WEB_FRAMEWORKS and layer != "web":
                reasons.add(f"only web/ may import {top}")
            if top != PACKAGE:
                continue
            target_layer = layer_of_import(target)
            if target_layer == layer:
                continue
            if LEVELS[target_layer] > LEVELS[layer]:
                reasons.add(f"{layer} is below {target_layer}")
            elif LEVELS[target_layer] == LEVELS[layer]:
                reasons.add(f"{layer} and {target_layer} are siblings")
        found.extend(Violation(module, node.lineno, statement, reason) for reason in sorted(reasons))
    return found


def package_modules() -> dict[str, Path]:
    """Every module of the package under src/, by dotted name."""
    modules = {}
    for path in sorted(SOURCE.rglob("*.py")):
        parts = path.relative_to(SOURCE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


MODULES = package_modules()


def test_every_layer_folder_is_found() -> None:
    """The checker sees the whole package: every layer but the foundation is a folder with modules in it."""
    layers = {layer_of(name) for name in MODULES}
    assert layers == set(LEVELS), f"layers without modules: {set(LEVELS) - layers}"
    assert len(MODULES) > 40


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_imports_only_its_own_or_lower_layers(module: str) -> None:
    path = MODULES[module]
    found = violations(module, path.read_text(encoding="utf-8"), is_package=path.name == "__init__.py")
    assert not found, "imports that break the layering rule (docs/architecture.md):\n" + "\n".join(map(str, found))


BAD_GRAPH_MODULE = """
from __future__ import annotations

import json
from evidencemap import namespaces as ns
from evidencemap.graph.loading import load
from evidencemap.web.app import create_app


def tables():
    from ..model import vocabulary
    import evidencemap.views.gapmap
    from evidencemap import publish
    from pydantic import BaseModel
    return vocabulary, evidencemap.views.gapmap, publish, BaseModel
"""


def test_checker_names_each_bad_import_with_its_line() -> None:
    """A synthetic graph/ module that imports upwards, at the top and inside a function, absolutely and relatively."""
    found = violations("evidencemap.graph.tables", BAD_GRAPH_MODULE)
    assert [(v.line, v.statement, v.reason) for v in found] == [
        (7, "from evidencemap.web.app import create_app", "graph is below web"),
        (11, "from ..model import vocabulary", "graph is below model"),
        (12, "import evidencemap.views.gapmap", "graph is below views"),
        (13, "from evidencemap import publish", "graph is below publish"),
        (14, "from pydantic import BaseModel", "only web/ may import pydantic"),
    ]
    assert str(found[0]) == (
        "evidencemap.graph.tables:7: from evidencemap.web.app import create_app  (graph is below web)"
    )


def test_checker_keeps_siblings_apart_and_lets_web_use_its_frameworks() -> None:
    sparql_into_model = "from evidencemap.model.vocabulary import Vocabulary\n"
    assert [v.reason for v in violations("evidencemap.sparql.guard", sparql_into_model)] == [
        "sparql and model are siblings"
    ]
    assert [v.reason for v in violations("evidencemap.web.app", "from evidencemap import cli\n")] == [
        "web is below cli"
    ]
    assert violations("evidencemap.cli", "from evidencemap.web.app import create_app\n") == []
    allowed = "import fastapi\nfrom jinja2 import Environment\nfrom evidencemap.publish import dataset\n"
    assert violations("evidencemap.graph.store", "from evidencemap import __version__\n") == []
    assert violations("evidencemap.web.pages", allowed) == []
    assert violations("evidencemap.settings", "from evidencemap import errors, namespaces\n") == []


def test_relative_imports_of_a_package_resolve_from_the_package_itself() -> None:
    assert violations("evidencemap.graph", "from . import store\nfrom .. import settings\n", is_package=True) == []
    assert [v.reason for v in violations("evidencemap.graph", "from ..views import gapmap\n", is_package=True)] == [
        "graph is below views"
    ]
