"""Settings: declared once, read from the environment with clear errors, and all documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidencemap.errors import InvalidParameter
from evidencemap.settings import Settings, setting_help

DOCS = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def test_settings_from_environment() -> None:
    settings = Settings.from_env({"EVIDENCEMAP_QUERY_TIMEOUT": "2.5", "EVIDENCEMAP_UNION_DEFAULT_GRAPH": "no"})
    assert (settings.query_timeout, settings.union_default_graph) == (2.5, False)


def test_overrides_win_over_environment() -> None:
    settings = Settings.from_env({"EVIDENCEMAP_MAX_ROWS": "10"}, max_rows=20)
    assert settings.max_rows == 20


def test_bad_environment_value_names_key_and_value() -> None:
    with pytest.raises(InvalidParameter, match=r"EVIDENCEMAP_MAX_ROWS='many' is not a valid int"):
        Settings.from_env({"EVIDENCEMAP_MAX_ROWS": "many"})


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [name for name, _, _ in setting_help() if f"`{name}`" not in text]
    assert missing == []
