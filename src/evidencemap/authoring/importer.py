"""``evidencemap import-csv``: an extraction sheet (one row per study) -> studies.ttl, findings.ttl, new concepts
(vocabulary.ttl, on request) and import-report.json in a map folder.

Every fact of a cell becomes a finding extracted by the review team, naming its sheet, row and column. A value
that matches no concept is reported with suggestions (row, column, value) and left out; with ``add_concepts`` a
value with no near label becomes a new top concept of the fact's scheme, but one that looks like a typo of an
existing label never does. Problems that would make a study invalid (no Study ID, a Study ID used twice, a year
that is not a year, a DOI that is not a DOI) stop the import before anything is written.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from evidencemap import namespaces as ns
from evidencemap.authoring.columns import FactColumn, Layout, layout_for, read_mapping
from evidencemap.authoring.matching import Matcher, label_key, split_values
from evidencemap.authoring.records import (
    DOI,
    EVM,
    Extraction,
    ReviewRecord,
    StudyRecord,
    add_concept,
    add_finding,
    add_passage,
    add_study,
    bare_doi,
    new_graph,
    slugify,
    write_turtle,
)
from evidencemap.authoring.scaffold import write_new_map
from evidencemap.authoring.sheets import Sheet, SheetRow, read_sheet
from evidencemap.errors import DataError
from evidencemap.graph.loading import build_vocabulary_store, load_file
from evidencemap.graph.store import EvidenceMap
from evidencemap.model.vocabulary import Facet, Vocabulary, load_vocabulary
from evidencemap.settings import Settings

REQUIRED = ("study-id", "title", "authors", "year")
REPORT_FILE = "import-report.json"
VOCABULARY_FILE = "vocabulary.ttl"
HEADER = "# Written by `evidencemap import-csv` from the extraction sheet {sheet}; import it again rather than edit.\n"


@dataclass(frozen=True)
class Suggestion:
    iri: str
    label: str


@dataclass(frozen=True)
class Unknown:
    row: int
    column: str
    value: str
    suggestions: tuple[Suggestion, ...]


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    value: str
    message: str


@dataclass
class ImportReport:
    sheet: str
    studies: int = 0
    findings: int = 0
    reference_numbers: str = "column"
    unknown_values: list[Unknown] = field(default_factory=list)
    added_concepts: list[Suggestion] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unmapped_columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"


def existing_review(folder: Path) -> ReviewRecord | None:
    """The review's record of a map folder made by ``new`` (its review.ttl), or None."""
    path = folder / "review.ttl"
    if not path.is_file():
        return None
    graph = Graph().parse(path, format="turtle")
    for review in graph.subjects(RDF.type, EVM.ScopingReview):
        return ReviewRecord(slug=ns.last_segment(str(review)), title="", licence="")
    return None


def vocabulary_with(folder: Path) -> Vocabulary:
    """The bundled vocabulary plus the map folder's own concepts (its vocabulary.ttl, if any)."""
    store = build_vocabulary_store()
    if (folder / VOCABULARY_FILE).is_file():
        load_file(store, folder / VOCABULARY_FILE, ns.GRAPH_VOCABULARY)
    return load_vocabulary(EvidenceMap(store=store, settings=Settings()), all_values=True)  # every country


def short_citation(authors: list[str], year: str) -> str:
    """``["Smith J", "Jones K", "Lee M"]``, ``"2024"`` -> ``"Smith et al. 2024"``.

    >>> short_citation(["Smith J", "Jones K"], "2024")
    'Smith and Jones 2024'
    """
    surnames = [a.split()[0].rstrip(",") for a in authors if a.split()]
    if len(surnames) == 1:
        return f"{surnames[0]} {year}"
    if len(surnames) == 2:
        return f"{surnames[0]} and {surnames[1]} {year}"
    return f"{surnames[0]} et al. {year}"


def _study(row: SheetRow, layout: Layout, order: int, report: ImportReport) -> StudyRecord | None:
    """The row's study, or None after recording each problem that keeps it from being one."""
    cells = {name: row.get(heading) for name, heading in layout.fields.items()}
    problems = [Problem(row.number, layout.fields[name], "", f"Row {row.number} has no {layout.fields[name]}.")
                for name in REQUIRED if not cells.get(name)]
    slug, year, doi = cells.get("study-id", ""), cells.get("year", ""), bare_doi(cells.get("doi", ""))
    if slug and not re.match(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", slug):
        problems.append(Problem(row.number, layout.fields["study-id"], slug,
                                f"Study ID {slug!r} is not a slug: use lower-case letters, digits and hyphens."))
    if year and not re.match(r"^[0-9]{4}$", year):
        problems.append(Problem(row.number, layout.fields["year"], year, f"Year {year!r} is not a four-digit year."))
    if doi and not DOI.match(doi):
        problems.append(Problem(row.number, layout.fields["doi"], doi, f"DOI {doi!r} is not a DOI (10.1234/abcd)."))
    number = cells.get("reference-number", "")
    if number and not number.isdigit():
        problems.append(Problem(row.number, layout.fields["reference-number"], number,
                                f"Reference number {number!r} is not a positive whole number."))
    report.problems.extend(problems)
    if problems:
        return None
    authors = split_values(cells["authors"])
    return StudyRecord(
        slug=slug, reference_number=int(number) if number else order, short_citation=short_citation(authors, year),
        title=cells["title"], authors=", ".join(authors), year=year, journal=cells.get("journal", ""), doi=doi,
        objective=cells.get("objective", ""), intervention=cells.get("intervention", ""),
    )


def _facet(vocabulary: Vocabulary, property_iri: str) -> Facet:
    return next(f for f in vocabulary.concept_facets if f.path[-1] == property_iri)


def _on_intervention(facet: Facet) -> bool:
    return len(facet.path) == 2 and facet.path[0] == ns.EVM + "evaluates"


@dataclass
class _NewConcepts:
    """Unknown values with no near label, per scheme, becoming concepts when the team asks for them."""

    graph: Graph = field(default_factory=new_graph)
    made: dict[tuple[str, str], Suggestion] = field(default_factory=dict)

    def concept(self, facet: Facet, value: str, sheet: str) -> str:
        assert facet.scheme is not None
        key = (facet.scheme, label_key(value))
        if key not in self.made:
            taken = {c.slug for c in facet.concepts} | {ns.last_segment(made.iri) for (s, _), made in
                                                          self.made.items() if s == facet.scheme}
            slug, n = slugify(value), 2
            while slug in taken:
                slug, n = f"{slugify(value)}-{n}", n + 1
            definition = (f"{value}: a value of the review team's extraction sheet {sheet}, added to the "
                          f"{facet.label} scheme on import.")
            self.made[key] = Suggestion(str(add_concept(self.graph, facet.scheme, slug, value, definition)), value)
        return self.made[key].iri


def import_sheet(sheet_path: Path, folder: Path, *, mapping: Path | None = None, review_text: Path | None = None,
                 add_concepts: bool = False, review: ReviewRecord | None = None) -> ImportReport:
    """Import the sheet into the map folder; the report says what was imported and what was not.

    The folder is a map made by ``new``, or ``review`` (the options of ``new``) makes it first. Nothing but the
    report is written when the report has problems.

    :raises DataError: for an unreadable sheet or mapping, a missing required column, or a folder without a review.
    """
    sheet = read_sheet(sheet_path)
    record = existing_review(folder)
    if record is None:
        if review is None:
            raise DataError(f"{folder} holds no review.ttl.",
                            hint="Run `evidencemap new DIR --title ... --licence ...` first, or give those options.")
        write_new_map(folder, review, review_text)
        record, review_text = review, None
    _refuse_to_replace_own_turtle(folder)
    if review_text is not None:
        shutil.copyfile(review_text, folder / "review.txt")
    vocabulary = vocabulary_with(folder)
    layout = layout_for(sheet.headings, vocabulary, read_mapping(mapping) if mapping else None)
    missing = [name for name in REQUIRED if name not in layout.fields]
    if missing:
        raise DataError(f"{sheet.name} has no column for: {', '.join(missing)}.",
                        hint=f"Its columns: {', '.join(sheet.headings)}. Name them in a --mapping file.")
    report = ImportReport(sheet.name, reference_numbers="column" if "reference-number" in layout.fields
                          else "sheet order (no Reference number column)",
                          unmapped_columns=list(layout.unmapped), ignored_columns=list(layout.ignored))
    studies, findings = new_graph(), new_graph()
    concepts = _NewConcepts()
    if (folder / VOCABULARY_FILE).is_file():
        concepts.graph.parse(folder / VOCABULARY_FILE, format="turtle")
    first_row: dict[str, int] = {}
    matchers = {c.property: Matcher(_facet(vocabulary, c.property)) for c in layout.facts}
    for order, row in enumerate(sheet.rows, start=1):
        study = _study(row, layout, order, report)
        if study is None:
            continue
        study = dataclasses.replace(study, map_slug=record.slug)  # in the map's own IRI space
        if study.slug in first_row:
            report.problems.append(Problem(row.number, layout.fields["study-id"], study.slug,
                                           f"Study ID {study.slug!r} is used twice: rows {first_row[study.slug]} "
                                           f"and {row.number}."))
            continue
        first_row[study.slug] = row.number
        facts = _facts(row, layout, record, study, matchers, sheet, report, findings, concepts, add_concepts)
        needs_intervention = bool(study.intervention) or any(f.subject == study.intervention_iri for f in facts)
        add_study(studies, record, study, needs_intervention)
        for fact in facts:
            add_finding(findings, record, study, fact)
        report.studies += 1
        report.findings += len(facts)
    report.added_concepts = list(concepts.made.values())
    (folder / REPORT_FILE).write_text(report.to_json(), encoding="utf-8")
    if report.problems:
        return report
    header = HEADER.format(sheet=sheet.name)
    write_turtle(studies, folder / "studies.ttl", header)
    write_turtle(findings, folder / "findings.ttl", header)
    if concepts.made:  # a vocabulary.ttl written by hand stays as it is (comments included) when nothing is added
        write_turtle(concepts.graph, folder / VOCABULARY_FILE,
                     "# New concepts of existing schemes, added by `evidencemap import-csv --add-concepts`.\n"
                     + header)
    return report


def _refuse_to_replace_own_turtle(folder: Path) -> None:
    """An import replaces studies.ttl and findings.ttl: refuse when either holds statements it did not write (a
    team's hand-written studies, which would be lost), before anything is written."""
    for name in ("studies.ttl", "findings.ttl"):
        path = folder / name
        if not path.is_file() or path.read_text(encoding="utf-8").startswith(HEADER.split("{", 1)[0]):
            continue
        try:
            statements = len(Graph().parse(path, format="turtle"))
        except SyntaxError:
            statements = 1  # a file being written by hand
        if statements:
            raise DataError(
                f"{path} holds statements written by hand, and import-csv replaces studies.ttl and findings.ttl "
                "with the sheet's studies.",
                hint="Move your own Turtle to another .ttl file of the map's folder (every .ttl file there is "
                     "loaded), then import again.")


def _facts(row: SheetRow, layout: Layout, record: ReviewRecord, study: StudyRecord, matchers: dict[str, Matcher],
           sheet: Sheet, report: ImportReport, findings: Graph, concepts: _NewConcepts,
           add_concepts: bool) -> list[Extraction]:
    """The row's facts, one per known value of each fact column (unknown values go to the report)."""
    facts: list[Extraction] = []
    for column in layout.facts:
        matcher = matchers[column.property]
        subject = study.intervention_iri if _on_intervention(matcher.facet) else study.iri
        passage = _passage(row, column, record, study, findings, report)
        for value in split_values(row.get(column.heading)):
            match = matcher.match(value)
            if match.concept is not None:
                concept = match.concept.iri
            elif add_concepts and not match.suggestions:
                concept = concepts.concept(matcher.facet, value, sheet.name)
            else:
                report.unknown_values.append(Unknown(row.number, column.heading, value, tuple(
                    Suggestion(c.iri, c.pref_label) for c in match.suggestions)))
                continue
            facts.append(Extraction(subject, column.property, concept, sheet.name, row.number, column.heading,
                                    passage))
    return list({(f.property, f.concept): f for f in facts}.values())


def _passage(row: SheetRow, column: FactColumn, record: ReviewRecord, study: StudyRecord, findings: Graph,
             report: ImportReport) -> URIRef | None:
    quote, section = row.get(column.quote).strip(), row.get(column.section).strip()
    if not quote:
        return None
    if not section:
        report.problems.append(Problem(row.number, column.section or f"{column.heading} section", "",
                                       f"Row {row.number} quotes the review for {column.heading} but gives no "
                                       "section: add it in the Section column beside the Quote."))
        return None
    return add_passage(findings, record, f"{study.slug}--{slugify(column.heading)}", quote, section)
