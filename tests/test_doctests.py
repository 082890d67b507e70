"""The examples in the package's docstrings run as tests: one test per module of the installed package.

Every module imports without side effects (the entry points, ``sparql/zygote.py``, ``web/openapi.py`` and
``cli.py``, do their work under ``if __name__ == "__main__":``), so every module is collected. Examples run with
``doctest.ELLIPSIS`` (``...`` in an expected output matches anything).
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re
from types import ModuleType

import pytest

import evidencemap

OPTIONS = doctest.ELLIPSIS
PROMPT = re.compile(r"^\s*>>> ", re.MULTILINE)


def module_names() -> list[str]:
    """The package and every module in it, as installed."""
    walked = pkgutil.walk_packages(evidencemap.__path__, prefix=f"{evidencemap.__name__}.")
    return [evidencemap.__name__, *sorted(info.name for info in walked)]


MODULES = module_names()


def doctests_of(module: ModuleType) -> list[doctest.DocTest]:
    """The module's docstring examples, as doctest finds them (module, classes, functions, methods)."""
    return [test for test in doctest.DocTestFinder().find(module) if test.examples]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name: str) -> None:
    module = importlib.import_module(name)
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    for test in doctests_of(module):
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
    # A prompt that doctest does not find (in a comment, a nested function, a string that is no docstring) never runs.
    prompts = len(PROMPT.findall(inspect.getsource(module)))
    assert runner.tries == prompts, f"{name} has {prompts} '>>>' prompts but doctest ran {runner.tries} examples"


def test_doctests_are_collected_at_all() -> None:
    """The examples of the package, counted over all its modules, are not zero (so the tests above cannot pass
    merely because nothing was found)."""
    examples = sum(len(test.examples) for name in MODULES for test in doctests_of(importlib.import_module(name)))
    assert len(MODULES) > 40
    assert examples >= 10, f"only {examples} docstring examples found in {len(MODULES)} modules"
