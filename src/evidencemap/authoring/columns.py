"""Which column of an extraction sheet holds what: the default layout (the columns of a Covidence-style template)
or a mapping file that names, for each heading, a record field or a fact property of the ontology.

Headings are compared without case and spacing. A fact column may have a Quote and a Section column beside it
("Delivery quote", "Delivery section"): the review's words that state the fact, and the section they are in.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from evidencemap import namespaces as ns
from evidencemap.errors import DataError
from evidencemap.model.vocabulary import Vocabulary

# Record fields: what a row says of the study and its report, not facts with a support kind.
FIELDS = ("study-id", "reference-number", "title", "authors", "year", "journal", "doi", "objective", "intervention")
IGNORE = "ignore"

# The default layout: heading -> a record field, a fact property (its local name in evm:) or None for a column the
# vocabulary has no property for yet (listed in the import report, never silently dropped).
DEFAULT_LAYOUT: dict[str, str | None] = {
    "study id": "study-id",
    "reference number": "reference-number",
    "title": "title",
    "authors": "authors",
    "year": "year",
    "journal": "journal",
    "doi": "doi",
    "country": "country",
    "study design": "studyDesign",
    "study objective": "objective",
    "population age": None,
    "population gender": None,
    "population diagnosis": None,
    "intervention": "intervention",
    "delivery": "delivery",
    "programme type": "modality",
    "program type": "modality",
    "components": "component",
    "outcomes": "reportsOutcome",
    "challenges": "reportsChallenge",
}


def heading_key(heading: str) -> str:
    """``"  Study   Design "`` -> ``"study design"``."""
    return " ".join(heading.split()).casefold()


@dataclass(frozen=True)
class FactColumn:
    heading: str
    property: str  # the fact property's IRI (canonical)
    quote: str | None = None  # the heading of its Quote column, if the sheet has one
    section: str | None = None


@dataclass(frozen=True)
class Layout:
    fields: dict[str, str]  # record field -> heading
    facts: tuple[FactColumn, ...]
    unmapped: tuple[str, ...] = ()  # headings the vocabulary has no property for
    ignored: tuple[str, ...] = field(default=())  # headings neither the layout nor the mapping names


def fact_properties(vocabulary: Vocabulary) -> dict[str, str]:
    """Local name (``studyDesign``) -> IRI of every fact property a concept facet ends in."""
    return {ns.last_segment(f.path[-1]).rsplit("#", 1)[-1]: f.path[-1] for f in vocabulary.concept_facets}


def read_mapping(path: Path) -> dict[str, str]:
    """A mapping file: a JSON object ``{"heading": "target"}`` or a two-column CSV (heading, target).

    :raises DataError: when it is neither.
    """
    if not path.is_file():
        raise DataError(f"Mapping file {str(path)!r} does not exist.")
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}: not valid JSON ({exc}).") from None
        if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
            raise DataError(f'{path}: must be one JSON object of "column heading": "target" pairs.')
        return {str(k): v for k, v in loaded.items()}
    rows = [r for r in csv.reader(io.StringIO(text)) if r and any(c.strip() for c in r)]
    if any(len(r) < 2 for r in rows):
        raise DataError(f"{path}: each line needs two cells, the column heading and its target.")
    return {r[0].strip(): r[1].strip() for r in rows if heading_key(r[0]) not in {"column", "heading"}}


def _target(value: str, properties: dict[str, str], source: str) -> str | None:
    """A mapping's target as a record field, a fact property's IRI or IGNORE.

    :raises DataError: for a target that is none of those, listing the valid ones.
    """
    name = value.strip()
    local = name.removeprefix("evm:").rsplit("#", 1)[-1]
    if name in FIELDS or name == IGNORE:
        return name
    if local in properties:
        return properties[local]
    raise DataError(
        f"{source}: unknown target {value!r}.",
        hint=f"Use a field ({', '.join(FIELDS)}), a fact property ({', '.join(sorted(properties))}) or {IGNORE!r}.",
    )


def layout_for(headings: tuple[str, ...], vocabulary: Vocabulary, mapping: dict[str, str] | None = None) -> Layout:
    """Which heading of the sheet is which field or fact (the mapping's entries first, then the default layout).

    :raises DataError: for a mapping target that is not valid, or a mapping heading the sheet does not have.
    """
    properties = fact_properties(vocabulary)
    targets: dict[str, str | None] = {}
    for key, value in DEFAULT_LAYOUT.items():
        targets[key] = value if value is None or value in FIELDS else properties.get(value)
    by_key = {heading_key(h): h for h in headings}
    for heading, value in (mapping or {}).items():
        if heading_key(heading) not in by_key:
            raise DataError(f"The mapping names the column {heading!r}, which the sheet does not have.",
                            hint=f"The sheet's columns: {', '.join(headings)}.")
        targets[heading_key(heading)] = _target(value, properties, "mapping file")
    fields: dict[str, str] = {}
    facts, unmapped, ignored = [], [], []
    for heading in headings:
        key = heading_key(heading)
        if key.endswith((" quote", " section")) and key.rsplit(" ", 1)[0] in targets:
            continue  # read with its fact column
        if key not in targets:
            ignored.append(heading)
            continue
        target = targets[key]
        if target is None:
            unmapped.append(heading)
        elif target == IGNORE:
            ignored.append(heading)
        elif target in FIELDS:
            fields[target] = heading
        else:
            facts.append(FactColumn(heading, target, by_key.get(f"{key} quote"), by_key.get(f"{key} section")))
    return Layout(fields, tuple(facts), tuple(unmapped), tuple(ignored))
