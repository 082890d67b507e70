"""The command line, called in-process through ``evidencemap.cli.main``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from rdflib import Dataset, Graph

from evidencemap.cli import main

SHAPES = Path(__file__).parent / "resources" / "shapes"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_bundled_map_conforms(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate")
    assert code == 0
    assert "conforms" in out and "NOT" not in out


def test_validate_invalid_file_exits_1_with_message(capsys: pytest.CaptureFixture[str]) -> None:
    fixture = SHAPES / "invalid" / "finding-derived-without-rationale.ttl"
    code, out, _ = run(capsys, "validate", str(SHAPES / "valid" / "minimal-map.ttl"), str(fixture))
    assert code == 1
    assert "does NOT conform" in out and "has no evm:rationale" in out


def test_validate_report_as_turtle_parses(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", "--format", "turtle")
    graph = Graph().parse(data=out, format="turtle")
    assert code == 0
    assert (None, None, None) in graph


def test_validate_missing_file_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "validate", str(tmp_path / "nope.ttl"))
    assert code == 2
    assert "does not exist" in err


def test_turtle_syntax_error_reports_line_and_column(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    broken = tmp_path / "broken.ttl"
    broken.write_text('@prefix ex: <http://example.org/> .\nex:a ex:b ex:c .\nex:d ex:e "unterminated .\n')
    code, _, err = run(capsys, "validate", str(broken))
    assert code == 2
    assert "broken.ttl" in err and "line 3" in err


def test_query_named_query_answers_the_burnout_question(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "query", "online-studies-burnout", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert [int(r["ref"]) for r in rows] == [40, 42, 44, 45]


def test_query_rq_file_with_param(capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(__file__).resolve().parents[1] / "maps" / "dufour-2025" / "queries" / "online-studies-burnout.rq"
    code, out, _ = run(capsys, "query", str(path), "--param", "delivery=in-person", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert [int(r["ref"]) for r in rows] == [39, 41]


def test_query_unknown_param_value_lists_valid_ones(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "query", "online-studies-burnout", "--param", "delivery=by-post")
    assert code == 2
    assert "Unknown value 'by-post'" in err and "online" in err


def test_query_sparql_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "query", "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/evidencemap/ontology#IncludedStudy> }",
        "--format", "json",
    )
    assert code == 0
    assert json.loads(out)["results"]["bindings"][0]["n"]["value"] == "11"


def test_query_syntax_error_reports_position(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "query", "SELECT * WHERE { ?s ?p }")
    assert code == 2
    assert "syntax error" in err and "1:" in err


@pytest.mark.parametrize(("fmt", "parser"), [("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld"), ("rdfxml", "xml")])
def test_export_formats_parse_back(capsys: pytest.CaptureFixture[str], fmt: str, parser: str) -> None:
    code = main(["export", "--format", fmt, "--graph", "data"])
    out = capsys.readouterr().out
    graph = Graph().parse(data=out, format=parser)
    assert code == 0
    assert len(graph) > 2000


def test_export_nquads_keeps_named_graphs(capsys: pytest.CaptureFixture[str]) -> None:
    main(["export", "--format", "nq"])
    dataset = Dataset()
    dataset.parse(data=capsys.readouterr().out, format="nquads")
    names = {str(g.identifier) for g in dataset.graphs()}
    assert {
        "https://w3id.org/evidencemap/graph/vocabulary",
        "https://w3id.org/evidencemap/graph/dufour-2025/data",
        "https://w3id.org/evidencemap/graph/dufour-2025/claims",
        "https://w3id.org/evidencemap/graph/dufour-2025/inferred",
    } <= names


def test_check_claims_table_and_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check-claims")
    assert code == 0
    assert "50 agrees, 0 disagrees, 17 not attributable to studies" in out


def test_check_claims_json_rows(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check-claims", "--format", "json")
    rows = json.loads(out)
    burnout = next(r for r in rows if r["label"] == "Studies reporting emotional vulnerability and burnout")
    assert code == 0
    assert (burnout["stated"], burnout["recomputed"], burnout["verdict"]) == (6, 6, "agrees")


def test_export_prisma_svg_shows_the_flow_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    import xml.etree.ElementTree as ET

    code = main(["export", "--format", "prisma-svg"])
    root = ET.fromstring(capsys.readouterr().out.encode("utf-8"))
    text = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert code == 0
    assert "2,114" in text and "2,048" in text and "65" in text and "11" in text


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_export_network_loads_back_with_networkx(tmp_path: Path, fmt: str) -> None:
    import networkx as nx

    target = tmp_path / f"network.{fmt}"
    assert main(["export", "--format", fmt, "--output", str(target)]) == 0
    graph = nx.read_graphml(target) if fmt == "graphml" else nx.read_gexf(target)
    studies = [n for n, d in graph.nodes(data=True) if d.get("kind") == "study"]
    assert len(studies) == 11
    assert graph.number_of_edges() > 100


def test_query_binds_params_through_the_map_query_gate(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from evidencemap.graph.store import EvidenceMap

    calls: list[tuple[str, dict[str, object]]] = []
    gate = EvidenceMap.query

    def recording(self: EvidenceMap, sparql: str, bindings: dict[str, object] | None = None, **kw: object) -> object:
        calls.append((sparql, dict(bindings or {})))
        return gate(self, sparql, bindings, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(EvidenceMap, "query", recording)
    code, out, _ = run(capsys, "query", "online-studies-burnout", "--param", "delivery=in-person", "--format", "csv")
    assert code == 0 and [int(r["ref"]) for r in csv.DictReader(io.StringIO(out))] == [39, 41]
    from evidencemap.model.queries import get_named_query

    named = get_named_query("online-studies-burnout").text
    bound = [bindings for text, bindings in calls if text == named]  # not pasted into the text: bound to a term
    assert len(bound) == 1 and set(bound[0]) == {"delivery", "challenge"}
    bindings = bound[0]
    assert str(bindings["delivery"]).startswith("<https://w3id.org/evidencemap/concept/delivery/in-person")


def test_query_ask_and_construct(capsys: pytest.CaptureFixture[str]) -> None:
    study = "<https://w3id.org/evidencemap/ontology#IncludedStudy>"
    code, out, _ = run(capsys, "query", f"ASK {{ ?s a {study} }}")
    assert (code, out) == (0, "true\n")
    code, out, _ = run(capsys, "query", f"CONSTRUCT {{ ?s a {study} }} WHERE {{ ?s a {study} }}")
    assert code == 0 and len(Graph().parse(data=out, format="turtle")) == 11


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("online-studies-burnout", "--param", "delivery"), "is not NAME=VALUE"),
        (("SELECT * WHERE { ?s ?p ?o }", "--param", "delivery=online"), "--param applies to named queries"),
    ],
)
def test_query_bad_params_are_clear_errors(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...],
                                           message: str) -> None:
    code, _, err = run(capsys, "query", *argv)
    assert code == 2 and message in err


def test_export_format_choices_come_from_the_formats_registry() -> None:
    from evidencemap.cli import build_parser
    from evidencemap.graph.formats import RDF_FORMATS

    export = build_parser()._subparsers._group_actions[0].choices["export"]  # type: ignore[union-attr]
    choices = next(a.choices for a in export._actions if a.dest == "format")
    assert [c for c in choices if c in RDF_FORMATS] == ["ttl", "nt", "nq", "trig", "jsonld", "rdfxml"]


def test_validate_prints_the_misspelled_value_whole_and_where(capsys: pytest.CaptureFixture[str]) -> None:
    fixture = SHAPES / "invalid" / "finding-misspelled-concept.ttl"
    code, out, _ = run(capsys, "validate", str(SHAPES / "valid" / "minimal-map.ttl"), str(fixture))
    assert code == 1
    assert "the value https://w3id.org/evidencemap/concept/delivery/onlien, which is not a concept" in out
    assert 'Did you mean https://w3id.org/evidencemap/concept/delivery/online ("online")?' in out
    line = next(n for n, text in enumerate(fixture.read_text(encoding="utf-8").splitlines(), 1)
                if text.startswith("ex:finding-typo"))
    assert f"written at: {fixture}:{line}" in out


def test_validate_lists_a_pasted_study_iri_first_with_both_places(capsys: pytest.CaptureFixture[str]) -> None:
    valid, fixture = SHAPES / "valid" / "minimal-map.ttl", SHAPES / "invalid" / "study-iri-used-twice.ttl"
    code, out, _ = run(capsys, "validate", str(valid), str(fixture))
    first = out.split("\n\n")[1]
    assert code == 1
    # the parts of "it has ..." come in GROUP_CONCAT's order, which SPARQL leaves to the engine
    assert "is used twice: it has two " in first and "two reference numbers, 1 and 2" in first
    assert f"{valid}:" in first and f"{fixture}:" in first


def test_serve_refuses_a_map_that_does_not_conform(capsys: pytest.CaptureFixture[str]) -> None:
    fixture = SHAPES / "invalid" / "study-without-design.ttl"
    code, _, err = run(capsys, "serve", "--data", str(SHAPES / "valid" / "minimal-map.ttl"), str(fixture))
    assert code == 2
    assert "A study needs an evm:studyDesign" in err and "--allow-invalid" in err


def test_serve_allow_invalid_marks_the_app_context(capsys: pytest.CaptureFixture[str]) -> None:
    import io

    from evidencemap.cli import app_to_serve
    from evidencemap.settings import Settings

    data = [SHAPES / "valid" / "minimal-map.ttl", SHAPES / "invalid" / "study-without-design.ttl"]
    err = io.StringIO()
    app = app_to_serve(Settings(data=data, allow_invalid=True), err)
    assert app is not None and app.state.context.invalid and app.state.context.violations == 1
    assert "serving a map that does not conform" in err.getvalue()
    valid = app_to_serve(Settings(data=data[:1]), io.StringIO())
    assert valid is not None and not valid.state.context.invalid
    from fastapi.testclient import TestClient

    with TestClient(app) as served, TestClient(valid) as conforming:
        banner = 'id="invalid-map-banner"'
        assert banner in served.get("/studies").text and "(1 violation)" in served.get("/").text
        assert banner not in conforming.get("/studies").text


def test_new_needs_the_reviews_own_title_and_licence(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "new", str(tmp_path / "map"))
    assert code == 2 and "--title" in err and "--licence" in err
    assert not (tmp_path / "map").exists()


def test_new_map_validates_and_refuses_a_folder_with_a_map(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    options = ("--title", "A review", "--licence", "https://creativecommons.org/licenses/by/4.0/", "--slug", "a-review")
    assert run(capsys, "new", str(tmp_path), *options)[0] == 0
    code, out, _ = run(capsys, "validate", str(tmp_path))
    assert code == 0 and "conforms, 1 warning(s)" in out
    code, _, err = run(capsys, "new", str(tmp_path), *options)
    assert code == 2 and "already holds map files" in err
