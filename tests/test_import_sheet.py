"""evidencemap import-csv: an extraction sheet becomes findings extracted by the review team; unknown values are
reported with suggestions and never guessed; a sheet's problems stop the import, named by row and column."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from evidencemap.authoring.importer import import_sheet
from evidencemap.authoring.records import ReviewRecord
from evidencemap.cli import main
from evidencemap.graph.store import EvidenceMap
from evidencemap.graph.validation import validate_map
from evidencemap.settings import Settings

RESOURCES = Path(__file__).parent / "resources"
SHEET = RESOURCES / "extraction-sheet.csv"
REVIEW = ReviewRecord(slug="fixture-review", title="Fixture review", licence="https://creativecommons.org/licenses/by/4.0/")
FINDINGS = """PREFIX evm: <https://w3id.org/evidencemap/ontology#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
SELECT ?study ?p ?o ?row ?column WHERE {
  ?f a evm:Finding ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ; evm:support evm:Extracted ;
     evm:extractedFrom [ evm:sourceRow ?row ; evm:sourceColumn ?column ] .
  ?s ^evm:evaluates? ?study . ?study a evm:IncludedStudy .
}"""


def rows_of(sheet: Path) -> list[dict[str, str]]:
    with sheet.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write_sheet(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def facts(folder: Path) -> set[tuple[str, str, str, int, str]]:
    evidence_map = EvidenceMap.load(Settings(data=[folder]))
    return {(r["study"], r["p"], r["o"], r["row"], r["column"]) for r in evidence_map.select(FINDINGS)}


def test_csv_and_xlsx_import_the_same_facts(tmp_path: Path) -> None:
    from_csv = import_sheet(SHEET, tmp_path / "csv", add_concepts=True, review=REVIEW)
    from_xlsx = import_sheet(SHEET.with_suffix(".xlsx"), tmp_path / "xlsx", add_concepts=True, review=REVIEW)
    assert (from_csv.studies, from_csv.findings) == (from_xlsx.studies, from_xlsx.findings) == (10, 77)
    assert facts(tmp_path / "csv") == facts(tmp_path / "xlsx")


def test_imported_map_conforms_and_every_fact_names_its_row(tmp_path: Path) -> None:
    import_sheet(SHEET, tmp_path, add_concepts=True, review_text=RESOURCES / "extraction-review.txt", review=REVIEW)
    result = validate_map(EvidenceMap.load(Settings(data=[tmp_path])))
    assert result.conforms, [v.message for v in result.errors]
    found = facts(tmp_path)
    design = "https://w3id.org/evidencemap/ontology#studyDesign"
    rct = "https://w3id.org/evidencemap/concept/design/randomized-controlled-trial"
    study = "https://w3id.org/evidencemap/data/fixture-review/study/fixture-02"  # in the map's own IRI space
    assert (study, design, rct, 3, "Study design") in found


def test_typo_is_suggested_never_applied_nor_made_a_concept(tmp_path: Path) -> None:
    rows = rows_of(SHEET)
    rows[0]["Delivery"] = "onlien"
    sheet = write_sheet(tmp_path / "typo.csv", rows)
    report = import_sheet(sheet, tmp_path / "map", add_concepts=True, review=REVIEW)
    [unknown] = report.unknown_values
    assert (unknown.row, unknown.column, unknown.value) == (2, "Delivery", "onlien")
    assert [s.iri.rsplit("/", 1)[-1] for s in unknown.suggestions][:1] == ["online"]
    assert "onlien" not in {c.label for c in report.added_concepts}
    saved = json.loads((tmp_path / "map" / "import-report.json").read_text(encoding="utf-8"))
    assert saved["unknown_values"][0]["suggestions"][0]["label"] == "online"


def test_unknown_value_without_add_concepts_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["import-csv", str(SHEET), "--out", str(tmp_path), "--title", "Fixture review",
                 "--licence", "https://creativecommons.org/licenses/by/4.0/"])
    out = capsys.readouterr().out
    assert code == 1
    assert "unknown value, row 2, column 'Components': 'psychoeducation'" in out  # a topic's value: not in the core
    assert "'Canada'" not in out  # every ISO 3166-1 country is in the core vocabulary


def test_study_id_used_twice_stops_the_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = rows_of(SHEET)
    rows[1]["Study ID"] = rows[0]["Study ID"]
    sheet = write_sheet(tmp_path / "twice.csv", rows)
    code = main(["import-csv", str(sheet), "--out", str(tmp_path / "map"), "--title", "Fixture review",
                 "--licence", "https://creativecommons.org/licenses/by/4.0/"])
    out = capsys.readouterr().out
    assert code == 2
    assert "Study ID 'fixture-01' is used twice: rows 2 and 3" in out
    assert "fixture-01" not in (tmp_path / "map" / "studies.ttl").read_text(encoding="utf-8")


def test_mapping_file_reads_another_layout(tmp_path: Path) -> None:
    rows = [{"Ref": "fixture-01", "Name": "Fixture study 1: a mapping test", "By": "Fixture A", "Published": "2020",
             "Design": "qualitative", "Setting": "face-to-face", "Who led": "peer led", "Notes": "test row"}]
    sheet = write_sheet(tmp_path / "other.csv", rows)
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"Ref": "study-id", "Name": "title", "By": "authors", "Published": "year",
                                   "Design": "evm:studyDesign", "Setting": "delivery", "Who led": "facilitation",
                                   "Notes": "ignore"}), encoding="utf-8")
    report = import_sheet(sheet, tmp_path / "map", mapping=mapping, review=REVIEW)
    assert (report.studies, report.findings, report.unknown_values, report.ignored_columns) == (1, 3, [], ["Notes"])
    assert validate_map(EvidenceMap.load(Settings(data=[tmp_path / "map"]))).conforms


def test_invented_quote_in_the_sheet_is_a_validation_error(tmp_path: Path) -> None:
    rows = rows_of(SHEET)
    rows[0]["Delivery quote"] = "Every carer was cured by the fixture programme."
    sheet = write_sheet(tmp_path / "quote.csv", rows)
    import_sheet(sheet, tmp_path / "map", add_concepts=True, review_text=RESOURCES / "extraction-review.txt",
                 review=REVIEW)
    result = validate_map(EvidenceMap.load(Settings(data=[tmp_path / "map"])))
    assert not result.conforms
    assert any('quotes "Every carer was cured by the fixture programme.", which is not in the review' in v.message
               for v in result.errors)
