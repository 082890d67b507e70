"""``evidencemap new DIR``: a map that validates from the first minute, holding only the team's own data.

The nodes the shapes require to exist, the review's record and the map's edition record, are written from the
options (title, licence, DOI, the map's slug), never as placeholders; every other node (sections, passages,
studies, findings of each kind, claims, flow stages) is a commented template in the file it belongs in, to be
copied, uncommented and filled in. docs/authoring.md walks through them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from evidencemap.authoring.records import ReviewRecord, check_review, review_graph, write_turtle
from evidencemap.errors import DataError

# The prefixes of a map's files: its studies, reports and interventions are in its own IRI space, data/{slug}/...
PREFIXES = """@prefix evm:     <https://w3id.org/evidencemap/ontology#> .
@prefix rdf:     <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix prov:    <http://www.w3.org/ns/prov#> .
@prefix oa:      <http://www.w3.org/ns/oa#> .
@prefix fabio:   <http://purl.org/spar/fabio/> .
@prefix prism:   <http://prismstandard.org/namespaces/basic/2.0/> .
@prefix study:   <https://w3id.org/evidencemap/data/{slug}/study/> .
@prefix report:  <https://w3id.org/evidencemap/data/{slug}/report/> .
@prefix intervention: <https://w3id.org/evidencemap/data/{slug}/intervention/> .
@prefix facet:   <https://w3id.org/evidencemap/ontology#facet-> .
"""

REVIEW_HEADER = """# The review's record and this map's edition record, written by `evidencemap new` from its options.
# Required: the review's dcterms:title and dcterms:license; the edition's rdfs:label, dcat:version (raise it with
# every change to the map's data) and prov:wasDerivedFrom the review. Optional: prism:doi, evm:authors,
# evm:shortCitation, fabio:hasPublicationYear, evm:searchedSource, evm:eligibilityCriterion, evm:flowStage.
# Templates of the other nodes of this file are at its end.
"""

REVIEW_TEMPLATES = """
# -- templates (copy, uncomment, fill in; the review's IRI is the subject written above) ---------------------------
#
# A section of the review (required by every passage and claim):
# <https://w3id.org/evidencemap/data/review/SLUG/section/3.2> a evm:ReviewSection ;
#     evm:sectionNumber "3.2" ; dcterms:title "Characteristics of the included studies"@en ;
#     dcterms:isPartOf <https://w3id.org/evidencemap/data/review/SLUG> .
#
# A stage of the PRISMA flow (optional; list it on the review with evm:flowStage):
# <https://w3id.org/evidencemap/data/review/SLUG/flow/included> a evm:FlowStage ;
#     rdfs:label "Studies included" ; evm:recordCount 7 ; evm:flowOrder 1 ; evm:flowPhase "included" .
"""

STUDIES = """# The included studies, their reports and the interventions they evaluated (`evidencemap import-csv` writes
# them from an extraction sheet). Required of a study: evm:referenceNumber, evm:shortCitation, evm:includedIn the
# review, evm:reportedIn its report, and a design (a finding in findings.ttl). Required of a report: dcterms:title,
# evm:authors, fabio:hasPublicationYear. Optional: prism:doi (bare, 10.x/y), prism:publicationName, evm:slug, the
# intervention (evm:evaluates, with an rdfs:label). List each study on the review with evm:includesStudy.
#
# study:smith-2024 a evm:IncludedStudy ;
#     evm:slug "smith-2024" ; evm:referenceNumber 12 ; evm:shortCitation "Smith et al. 2024" ;
#     evm:includedIn <https://w3id.org/evidencemap/data/review/SLUG> ; evm:reportedIn report:smith-2024 ;
#     evm:evaluates intervention:smith-2024 .
# <https://w3id.org/evidencemap/data/review/SLUG> evm:includesStudy study:smith-2024 .
#
# report:smith-2024 a evm:StudyReport ;
#     dcterms:title "The report's title, as the reference list prints it" ; evm:authors "Smith J, Jones K" ;
#     fabio:hasPublicationYear "2024"^^xsd:gYear ; prism:doi "10.1234/abcd" .
#
# intervention:smith-2024 a evm:Intervention ; rdfs:label "The programme's name"@en .
"""

FINDINGS = """# Passages of the review (its words verbatim: `evidencemap validate` checks them against review.txt) and
# per-study findings. A finding reifies one fact (rdf:subject the study or its intervention, rdf:predicate a fact
# property, rdf:object a concept of that property's scheme) and says how it rests on the review (evm:support):
#   evm:Extracted  the review team recorded it in its extraction sheet: evm:extractedFrom names the cell
#                  (dcterms:source the file, evm:sourceRow, evm:sourceColumn); a passage is optional
#   evm:Cited      the passage names the study by its reference number (the passage lists it with evm:citesStudy)
#   evm:Derived    the text does not name the study but forces the fact: evm:rationale says how
#   evm:Inferred   the text and reference list make it plausible, not forced: evm:rationale says what and why
#
# <https://w3id.org/evidencemap/data/review/SLUG/passage/online> a evm:Passage ;
#     oa:hasSource <https://w3id.org/evidencemap/data/review/SLUG> ;
#     evm:section <https://w3id.org/evidencemap/data/review/SLUG/section/3.2> ;
#     oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "The review's words, copied verbatim (12)." ] ;
#     evm:citesStudy study:smith-2024 .
#
# <https://w3id.org/evidencemap/data/review/SLUG/finding/smith-2024--delivery--online> a evm:Finding ;
#     rdf:subject intervention:smith-2024 ; rdf:predicate evm:delivery ;
#     rdf:object <https://w3id.org/evidencemap/concept/delivery/online> ;
#     evm:support evm:Cited ; prov:wasDerivedFrom <https://w3id.org/evidencemap/data/review/SLUG/passage/online> .
#
# <https://w3id.org/evidencemap/data/review/SLUG/finding/smith-2024--studyDesign--qualitative-study> a evm:Finding ;
#     rdf:subject study:smith-2024 ; rdf:predicate evm:studyDesign ;
#     rdf:object <https://w3id.org/evidencemap/concept/design/qualitative-study> ;
#     evm:support evm:Extracted ;
#     evm:extractedFrom [ a evm:SheetCell ; dcterms:source "extraction.csv" ; evm:sourceRow 2 ;
#                         evm:sourceColumn "Study design" ] .
"""

CLAIMS = """# Claims: every count the review states, so that `evidencemap check-claims` recomputes it from the findings.
# A study-count claim names what it counts (rdfs:label), the number (evm:statedCount), its section and passage, and
# how it can be attributed: evm:AttributedByCitation (the passage prints the studies: list them with
# evm:statedStudy), evm:AttributedByDerivation, or evm:NotAttributable (the count stays a claim of the review).
# Its scope is one or more evm:condition on facets.
#
# <https://w3id.org/evidencemap/data/review/SLUG/claim/delivered-online> a evm:StudyCountClaim ;
#     rdfs:label "Studies delivered online" ; evm:statedCount 6 ;
#     evm:section <https://w3id.org/evidencemap/data/review/SLUG/section/3.2> ;
#     prov:wasDerivedFrom <https://w3id.org/evidencemap/data/review/SLUG/passage/online> ;
#     evm:attribution evm:AttributedByCitation ; evm:statedStudy study:smith-2024 ;
#     evm:condition [ a evm:Condition ; evm:onFacet facet:delivery ;
#                     evm:hasValue <https://w3id.org/evidencemap/concept/delivery/online> ] .
"""


def has_map_files(folder: Path) -> bool:
    return folder.is_dir() and any(folder.glob("*.ttl"))


def write_new_map(folder: Path, record: ReviewRecord, review_text: Path | None = None) -> list[Path]:
    """Write a new map's files into ``folder`` (created if needed); the files written.

    :raises DataError: when ``folder`` already holds map files, or the review's text cannot be read.
    :raises InvalidParameter: for a bad slug, title, licence or DOI.
    """
    check_review(record)
    if has_map_files(folder):
        raise DataError(f"{folder} already holds map files; a new map needs an empty folder.")
    if review_text is not None and not review_text.is_file():
        raise DataError(f"Review text {str(review_text)!r} does not exist.")
    folder.mkdir(parents=True, exist_ok=True)
    review = folder / "review.ttl"
    write_turtle(review_graph(record), review, REVIEW_HEADER)
    # the templates are written with this map's slug, ready to copy
    with review.open("a", encoding="utf-8") as out:
        out.write(REVIEW_TEMPLATES.replace("SLUG", record.slug))
    written = [review]
    for name, text in (("studies.ttl", STUDIES), ("findings.ttl", FINDINGS), ("claims.ttl", CLAIMS)):
        (folder / name).write_text(text.replace("SLUG", record.slug) + "\n" + PREFIXES.format(slug=record.slug),
                                   encoding="utf-8")
        written.append(folder / name)
    if review_text is not None:
        shutil.copyfile(review_text, folder / "review.txt")
        written.append(folder / "review.txt")
    return written
