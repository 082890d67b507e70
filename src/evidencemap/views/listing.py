"""The study list: the studies matching a selection, one page of their summaries, and every facet's value counts
among them (the counts a faceted browser shows next to each checkbox). Web-free: web/api.py turns a
:class:`StudyListing` into the JSON of /api/studies and pages.py into the study list page.

A support level (``max_support``: "cited", "derived" or the default, every fact) holds the list and the counts to
facts at least that strong. A value the review counts studies for without the map naming them (the countries other
than Australia, 3.2) carries that count (``review_count``, ``review_note``): "the review does not say which" is not
"none". The count is the review's, for the whole review, whatever the filters. Likewise a facet the map does not
record at all (no study has a value of it: model/recorded.py) lists no values with "0 studies": its tally says it is
not recorded (only values a user chose are kept, so that they can be unticked).
"""

from __future__ import annotations

from dataclasses import dataclass

from evidencemap.graph.store import EvidenceMap
from evidencemap.model.facet_counts import level_key
from evidencemap.model.facets import Choice, Selection, facet_counts, page_of_studies, select_studies, value_counts
from evidencemap.model.recorded import is_recorded
from evidencemap.model.review_counts import unattributed_by_value
from evidencemap.model.studies import StudySummary, study_summaries
from evidencemap.model.study_cards import card_summaries
from evidencemap.model.vocabulary import Concept, Facet, Vocabulary


@dataclass(frozen=True)
class ValueTally:
    """A facet value (a concept, or a year for a literal facet) with the number of listed studies that have it."""

    value: str
    label: str
    count: int
    iri: str | None = None
    depth: int = 0
    selected: bool = False
    review_count: int | None = None  # studies with the value the review counts but the map does not name
    review_note: str | None = None


@dataclass(frozen=True)
class FacetTally:
    """A facet with its values' counts; ``recorded`` False when the map records no value of it (then ``values``
    holds only the chosen ones, and no count means "none")."""

    facet: Facet
    values: tuple[ValueTally, ...]
    recorded: bool = True


@dataclass(frozen=True)
class StudyListing:
    """One page of the studies matching ``selection``: ``total`` of them, ``studies`` from ``offset``."""

    selection: Selection
    total: int
    size: int
    offset: int
    studies: tuple[StudySummary, ...]
    facets: tuple[FacetTally, ...]
    max_support: str | None = None


def hierarchy(facet: Facet) -> list[tuple[Concept, int]]:
    """The facet's concepts in tree order (each after its broader concept) with their depth; concepts outside the
    tree (none in a well-formed scheme) last, at depth 0."""
    out: list[tuple[Concept, int]] = []
    placed: set[int] = set()  # ids of the concepts in ``out`` (a concept with two broader ones is placed once)
    narrower: dict[str | None, list[Concept]] = {}  # Facet.children of every concept (None: the top), in one pass
    for concept in facet.concepts:
        for broader in concept.broader or (None,):
            narrower.setdefault(broader, []).append(concept)

    def walk(parent: Concept | None, depth: int) -> None:
        for child in narrower.get(parent.iri if parent is not None else None, ()):
            if id(child) not in placed:
                placed.add(id(child))
                out.append((child, depth))
                walk(child, depth + 1)

    walk(None, 0)
    out.extend((c, 0) for c in facet.concepts if id(c) not in placed)
    return out


def facet_hierarchy(evidence_map: EvidenceMap, facet: Facet) -> list[tuple[Concept, int]]:
    """:func:`hierarchy`, computed once per version of the map: it depends on the vocabulary only (a third of a study
    list's CPU at 10,000 studies when it was computed on every list)."""
    return evidence_map.derive(f"views.listing.hierarchy {facet.name}", lambda: hierarchy(facet))


def facet_tallies(
    evidence_map: EvidenceMap, vocabulary: Vocabulary, selection: Selection, max_support: str | None = None
) -> tuple[FacetTally, ...]:
    """Every facet with the counts of its values among the studies matching ``selection`` (chosen values included
    even when no study has them, so that they can be unticked), by facts at least as strong as ``max_support``.
    Those of a selection that filters nothing depend on the version of the map only: made once per version (and
    vocabulary object, which the value keeps, so that its id names no other while the value is kept)."""
    if selection.is_everything:
        key = f"views.listing.tallies {level_key(evidence_map, max_support) or ''} {id(vocabulary)}"
        return evidence_map.derive(key, lambda: (vocabulary, _tallies(evidence_map, vocabulary, selection,
                                                                      max_support)))[1]
    return _tallies(evidence_map, vocabulary, selection, max_support)


def _tallies(
    evidence_map: EvidenceMap, vocabulary: Vocabulary, selection: Selection, max_support: str | None
) -> tuple[FacetTally, ...]:
    chosen = {c.facet.name: c for c in selection.choices}
    counted = value_counts(evidence_map, vocabulary.facets, selection, max_support)
    out = []
    for facet in vocabulary.facets:
        counts = counted[facet.name]
        choice = chosen.get(facet.name, Choice(facet))
        recorded = is_recorded(evidence_map, facet)
        if not recorded:
            values = tuple(ValueTally(value=c.slug, label=c.pref_label, iri=c.iri, count=0, selected=True)
                           for c in choice.concepts) + tuple(
                ValueTally(value=v, label=v, count=0, selected=True) for v in choice.literals)
        elif facet.is_concept_facet:
            reviews = unattributed_by_value(evidence_map, vocabulary, facet, max_support)
            values = tuple(
                ValueTally(value=c.slug, label=c.pref_label, iri=c.iri, count=counts.get(c.iri, 0), depth=depth,
                           selected=c in choice.concepts,
                           review_count=reviews[c.iri].unattributed if c.iri in reviews else None,
                           review_note=reviews[c.iri].sentence if c.iri in reviews else None)
                for c, depth in facet_hierarchy(evidence_map, facet)
            )
        else:
            values = tuple(
                ValueTally(value=v, label=v, count=counts.get(v, 0), selected=v in choice.literals)
                for v in sorted(set(counts) | set(choice.literals))
            )
        out.append(FacetTally(facet, values, recorded))
    return tuple(out)


def matching(evidence_map: EvidenceMap, selection: Selection, max_support: str | None = None) -> list[str]:
    """The IRIs of the studies matching ``selection`` (by facts at least as strong as ``max_support``), in list
    order."""
    return select_studies(evidence_map, selection, max_support)


def study_listing(
    evidence_map: EvidenceMap,
    vocabulary: Vocabulary,
    selection: Selection,
    size: int | None,
    offset: int = 0,
    *,
    with_facets: bool = True,
    provenance: bool = True,
    max_support: str | None = None,
) -> StudyListing:
    """``size`` studies (every one when None) from ``offset`` of those matching ``selection``, and
    (``with_facets``) the facet counts of the whole matching set, by facts at least as strong as ``max_support``."""
    total, iris = page_of_studies(evidence_map, selection, offset, size, max_support)
    # A page's cards are kept for the version (model/study_cards.py); a whole export is read, not kept.
    if size is None:
        summaries = study_summaries(evidence_map, vocabulary, iris, provenance=provenance)
    else:
        summaries = card_summaries(evidence_map, vocabulary, iris, provenance=provenance)
    tallies = facet_tallies(evidence_map, vocabulary, selection, max_support) if with_facets else ()
    return StudyListing(selection, total, total if size is None else size, offset, tuple(summaries), tallies,
                        max_support)


# -- the kind of evidence at a glance: badges on study cards, designs counted in answers and lists ----------------

EVIDENCE_ROLE = "colour"  # evm:gapMapRole of the facets that say what kind of evidence a study is


def evidence_facets(vocabulary: Vocabulary) -> tuple[Facet, ...]:
    """The facets that say what kind of evidence a study is (its design, the type of its data): those the ontology
    gives the gap map's colour role, in facet order. The first is the one answers count ("3 of 11 studies: ...")."""
    return vocabulary.facets_in_role(EVIDENCE_ROLE)


def short_label(concept: Concept) -> str:
    """The concept's short form for a badge, from the vocabulary: its ``skos:notation``; else an abbreviation among
    its ``skos:altLabel``s (a label in capitals, such as "RCT"), the shortest if several; else its preferred label."""
    if concept.notation:
        return concept.notation
    abbreviations = sorted((a for a in concept.alt_labels if len(a) > 1 and a.isupper()), key=len)
    return abbreviations[0] if abbreviations else concept.pref_label


@dataclass(frozen=True)
class KindCount:
    """A value of the first evidence facet (a study design) with the number of studies that have it."""

    concept: Concept
    short: str
    count: int

    @property
    def scheme(self) -> str:
        """The slug of the concept's scheme (the last segment of its IRI), as concept pages are addressed."""
        return self.concept.scheme.rstrip("/").rsplit("/", 1)[-1]


def kinds_counted(
    evidence_map: EvidenceMap, vocabulary: Vocabulary, selection: Selection, max_support: str | None = None
) -> tuple[KindCount, ...]:
    """The designs of the studies matching ``selection`` (facts at least as strong as ``max_support``), most
    studies first, then in the vocabulary's order; () when the vocabulary has no evidence facet."""
    facets = evidence_facets(vocabulary)
    if not facets:
        return ()
    counts = facet_counts(evidence_map, facets[0], selection, max_support)
    found = [(c, counts.get(c.iri, 0)) for c, _ in facet_hierarchy(evidence_map, facets[0])]
    ordered = sorted((item for item in enumerate(found) if item[1][1]), key=lambda item: (-item[1][1], item[0]))
    return tuple(KindCount(c, short_label(c), n) for _, (c, n) in ordered)
