"""The page models: each is the JSON body of an /api endpoint (and so its OpenAPI schema) and the context of the
HTML page that shows the same view. ``rdf_type`` names the term of the JSON-LD context (web/jsonld.py) that types
the object when the client asks for JSON-LD."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

EXAMPLE_STUDY = "https://w3id.org/evidencemap/data/dufour-2025/study/jewell-2022"


SUPPORT_LEVEL = (
    "The support level in force: the weakest strength of attribution counted ('cited': cited facts only; 'derived': "
    "cited and derived; 'inferred': every fact, the default)."
)


class Model(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    rdf_type: ClassVar[str | None] = None


class ErrorBody(BaseModel):
    ok: bool = Field(False, description="Always false for an error.")
    error: str = Field(description="What went wrong, in words a person can act on.")
    status: int = Field(description="The HTTP status code.")
    hint: str | None = Field(None, description="What would be valid (e.g. 'Use one of: ...'); absent when there is "
                             "no advice.")
    allowed: list[str] | None = Field(None, description="When the error is about a choice (a facet, a value, a format, "
                                      "a media type): the valid choices. Absent otherwise.")

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"ok": False, "error": "Unknown facet 'color'.", "status": 400,
                                         "hint": "Use one of: design, delivery, challenge.",
                                         "allowed": ["design", "delivery", "challenge"]}]}
    )


class ConceptRef(Model):
    """A concept of the vocabulary, as the value of a facet."""

    rdf_type: ClassVar[str | None] = "Concept"
    iri: str = Field(description="The concept's IRI.", examples=["https://w3id.org/evidencemap/concept/delivery/online"])
    slug: str = Field(description="The concept's slug: the value to use in facet parameters.", examples=["online"])
    label: str = Field(description="The concept's preferred label.", examples=["online"])
    facet: str = Field(description="The name of the facet the concept is a value of.", examples=["delivery"])
    scheme: str = Field(description="The slug of the concept scheme.", examples=["delivery"])


class FactValue(ConceptRef):
    """A concept as a study has it: with how the review supports it and where."""

    support: str | None = Field(None, description="'cited' (the review names the study for it), 'derived' "
                                "(not cited, but forced by the review's text) or 'inferred' (not cited and not forced, "
                                "but plausible from the text and the reference list); the study page gives the "
                                "rationale of the last two.",
                                examples=["cited"])
    section: str | None = Field(None, description="The review section that supports it.", examples=["3.3.1"])


class Intervention(Model):
    """The intervention a study evaluated, with the facets that describe it."""

    rdf_type: ClassVar[str | None] = "Intervention"
    iri: str = Field(description="The intervention's IRI.")
    label: str | None = Field(None, description="The intervention's name.")
    description: str | None = Field(None, description="A short description from the review.")
    facets: dict[str, list[FactValue]] = Field(
        description="Values of every facet that describes the intervention (modality, delivery, component, "
        "schedule, facilitation, ... as the vocabulary defines them), keyed by facet name; [] when the review "
        "states none."
    )


class Reason(Model):
    """Why a study is in a filtered list: which of its values satisfied which chosen facet."""

    facet: str = Field(description="The facet name.", examples=["challenge"])
    chosen: list[str] = Field(description="The values asked for in this facet.",
                              examples=[["emotional-vulnerability-burnout"]])
    value: FactValue = Field(description="The study's own value that matched (the chosen one or a narrower one).")


class StudyLinks(Model):
    html: str = Field(description="The study's page.", examples=["/studies/jewell-2022"])
    json_: str = Field(alias="json", description="The study in full, as JSON.", examples=["/api/studies/jewell-2022"])

    model_config = ConfigDict(from_attributes=True, populate_by_name=True, serialize_by_alias=True)


class StudyValue(Model):
    """A concept as a study card shows it: its label, its link and how the review supports it (the review
    section is on the study's own endpoint, and on ``why`` when it is the reason the study is listed)."""

    rdf_type: ClassVar[str | None] = "Concept"
    iri: str = Field(description="The concept's IRI.", examples=["https://w3id.org/evidencemap/concept/delivery/online"])
    slug: str = Field(description="The concept's slug: the value to use in facet parameters.", examples=["online"])
    label: str = Field(description="The concept's preferred label.", examples=["online"])
    scheme: str = Field(description="The slug of the concept scheme (the concept's page is /concepts/{scheme}/{slug}).",
                        examples=["delivery"])
    support: str | None = Field(None, description="'extracted', 'cited', 'derived' or 'inferred': how strongly the "
                                "review attributes the value to the study.", examples=["cited"])


class StudyIntervention(Model):
    """The intervention on a study card: its name and the values of the facets that describe it."""

    rdf_type: ClassVar[str | None] = "Intervention"
    iri: str = Field(description="The intervention's IRI.")
    label: str | None = Field(None, description="The intervention's name.")
    facets: dict[str, list[StudyValue]] = Field(
        description="Values of every facet that describes the intervention (modality, delivery, component, ...), "
        "keyed by facet name; [] when the review states none."
    )


class StudyBase(Model):
    """What a study card and a study's full record share."""

    rdf_type: ClassVar[str | None] = "IncludedStudy"
    iri: str = Field(description="The study's IRI.", examples=[EXAMPLE_STUDY])
    id: str = Field(description="The study's slug, used in URLs.", examples=["jewell-2022"])
    ref: int = Field(description="The study's reference number in the review.", examples=[44])
    citation: str | None = Field(None, description="Short citation (first author, year).",
                                 examples=["Jewell et al. 2022"])
    title: str | None = Field(None, description="Title of the study's report.")
    year: int | None = Field(None, description="Publication year of the report.", examples=[2022])
    doi: str | None = Field(None, description="DOI of the report, or null.", examples=["10.1186/s40479-022-00203-y"])
    doi_url: str | None = Field(None, description="The DOI as a link, or null.")
    journal: str | None = Field(None, description="Journal or source of the report.")
    why: list[Reason] = Field(default_factory=list, description="Why the study matches the filters ([] unfiltered).")
    links: StudyLinks


class Study(StudyBase):
    """One included study as a card of a list shows it (issue 14: a list sends what its cards show): the
    reference, every facet value with its label, link and strength of attribution, the intervention's name and
    values, why it is listed. The authors, the report, the intervention's description and each fact's provenance
    are on the study's own endpoint (``links.json``)."""

    facets: dict[str, list[StudyValue]] = Field(
        description="Values of every facet that describes the study itself (design, evidence type, outcome, "
        "challenge, country, ... as the vocabulary defines them), keyed by facet name; [] when the review does not "
        "tie the study to a value (e.g. a country it counts without naming the studies)."
    )
    intervention: StudyIntervention | None = Field(None, description="The intervention the study evaluated.")


class SheetCell(Model):
    """The extraction-sheet cell a fact was read from."""

    sheet: str = Field(description="The sheet's file name.", examples=["extraction-sheet.csv"])
    row: int = Field(description="The row, as a spreadsheet numbers it (the header is row 1).", examples=[2])
    column: str = Field(description="The column's heading.", examples=["Study design"])


class Fact(Model):
    """One finding about a study or its intervention, with its provenance in the review."""

    rdf_type: ClassVar[str | None] = "Finding"
    finding: str = Field(description="The finding's IRI.")
    subject: str = Field(description="IRI of what the fact is about: the study or its intervention.")
    subject_kind: str = Field(description="'study' or 'intervention'.", examples=["intervention"])
    facet: str | None = Field(None, description="The facet of the property, if any.", examples=["delivery"])
    property: str = Field(description="The property's IRI.", examples=["https://w3id.org/evidencemap/ontology#delivery"])
    property_label: str = Field(description="The property's label.", examples=["delivery"])
    value: ConceptRef = Field(description="The concept the fact states.")
    support: str | None = Field(None, description="'extracted' (the review team recorded it in its extraction sheet), "
                                "'cited' (the review names the study for it), 'derived' (forced by its text) or "
                                "'inferred' (plausible from its text and reference list, not forced): the local name "
                                "of its evm:SupportKind, strongest first.", examples=["cited"])
    rationale: str | None = Field(None, description="For a derived fact: why the review's text forces it; for an "
                                  "inferred fact: what makes it plausible and why it is not forced.")
    excluded: bool = Field(False, description="True when the fact is weaker than the support level asked for "
                           "(support=cited or derived): shown, but not counted in lists, facets or the gap map.")
    detail: str | None = Field(None, description="What the review says of this study for this fact.")
    evidence_type: ConceptRef | None = Field(None, description="Quantitative or qualitative, for outcome facts.")
    passage: str | None = Field(None, description="IRI of the supporting passage.")
    section: str | None = Field(None, description="Review section number.", examples=["3.3.1"])
    section_title: str | None = Field(None, description="Review section title.")
    quote: str | None = Field(None, description="The review's words, verbatim.")
    notes: list[str] = Field(default_factory=list, description="Notes on inconsistencies of the source text.")
    extracted_from: SheetCell | None = Field(None, description="For a fact extracted by the review team: the cell of "
                                             "the extraction sheet it was read from.")


class StudyDetail(StudyBase):
    """One included study in full."""

    authors: str | None = Field(None, description="Authors as the reference list gives them.")
    report: str | None = Field(None, description="IRI of the study's report.")
    facets: dict[str, list[FactValue]] = Field(
        description="Values of every facet that describes the study itself, keyed by facet name, each with its "
        "support and review section; [] when the review does not tie the study to a value."
    )
    intervention: Intervention | None = Field(None, description="The intervention the study evaluated.")
    bibliographic_citation: str | None = Field(None, description="The reference-list entry.")
    url: str | None = Field(None, description="Link to the report.")
    facts: list[Fact] = Field(description="Every fact about the study or its intervention, with provenance (facts "
                              "weaker than the support level are listed too, marked excluded).")
    notes: list[str] = Field(default_factory=list, description="Notes on the source about this study.")
    support: str = Field("inferred", description=SUPPORT_LEVEL)


RECORDED = ("Whether the map records this facet: at least one of its studies has a value of it. When false, no "
            "value is counted (the map says nothing about it, which is not 'no study'): `values` holds only values "
            "chosen as filters.")
RECORDED_NOTE = "Why the facet has no counts, when the map does not record it (null otherwise)."


class ValueCount(Model):
    """A facet value with the number of studies that have it."""

    value: str = Field(description="The value as a parameter: a concept slug, or a year.", examples=["online"])
    label: str = Field(description="The value's label.", examples=["online"])
    iri: str | None = Field(None, description="The concept's IRI (null for years).")
    count: int = Field(description="Studies of the current list with this value (or a narrower one).")
    depth: int = Field(0, description="Depth in the concept hierarchy (0 for top concepts).")
    selected: bool = Field(False, description="Whether the value is among the current filters.")
    review_count: int | None = Field(None, description="How many studies with this value the review counts without "
                                     "the map naming them (null: none): 'the review does not say which' is not "
                                     "'none'.", examples=[2])
    review_note: str | None = Field(None, description="That count in the review's terms, with its section.",
                                    examples=["The review counts 2 studies from United Kingdom (3.2) without naming "
                                              "them"])
    toggle_url: str = Field(description="/api/studies URL of the list with this value added or removed.")


class FacetCounts(Model):
    """One facet with the counts of its values among the filtered studies."""

    rdf_type: ClassVar[str | None] = "Facet"
    iri: str = Field(description="The facet's IRI.")
    name: str = Field(description="The facet's name: the query parameter.", examples=["delivery"])
    label: str = Field(description="The facet's label.", examples=["delivery"])
    recorded: bool = Field(True, description=RECORDED)
    note: str | None = Field(None, description=RECORDED_NOTE, examples=["This map does not record evidence type."])
    values: list[ValueCount]


class PageLinks(Model):
    """Links of one page of an answer's studies."""

    self_: str = Field(alias="self", description="This page: a stable URL to share.",
                       examples=["/api/ask?q=which+online+studies+reported+burnout"])
    next: str | None = Field(None, description="The next page, if any.")
    prev: str | None = Field(None, description="The previous page, if any.")

    model_config = ConfigDict(from_attributes=True, populate_by_name=True, serialize_by_alias=True)


class ListLinks(Model):
    self_: str = Field(alias="self", description="This view: a stable URL to share.",
                       examples=["/api/studies?delivery=online&challenge=emotional-vulnerability-burnout"])
    html: str = Field(description="The same view as a page.")
    csv: str = Field(description="The same view as CSV, one row per study.")
    next: str | None = Field(None, description="The next page, if any.")
    prev: str | None = Field(None, description="The previous page, if any.")

    model_config = ConfigDict(from_attributes=True, populate_by_name=True, serialize_by_alias=True)


class StudyList(Model):
    """A filtered, paged list of studies with the facet counts of the filtered set."""

    total: int = Field(description="How many studies match the filters.", examples=[4])
    limit: int = Field(description="Page size.", examples=[50])
    offset: int = Field(description="Studies skipped before this page.", examples=[0])
    filters: dict[str, list[str]] = Field(
        description="The filters in force, by facet name (values of a facet OR-ed, facets AND-ed).",
        examples=[{"delivery": ["online"], "challenge": ["emotional-vulnerability-burnout"]}],
    )
    sparql: str = Field(description=(
        "The SPARQL query that selects these studies (the server answers it from its facet index, which gives the "
        "same studies; run it on /sparql to check)."
    ))
    studies: list[Study]
    facets: list[FacetCounts] = Field(description="Every facet with its value counts among the matching studies.")
    search: str | None = Field(None, description="The free-text search in force (q=): every word must match a study's "
                               "authors, title, journal, year or programme.", examples=["Grenyer"])
    search_unmatched: list[str] = Field(default_factory=list, description="Words of the search that no study has.")
    support: str = Field("inferred", description=SUPPORT_LEVEL)
    support_levels: list[str] = Field(default_factory=list, description="The support levels that can be asked for, "
                                      "strongest first.", examples=[["cited", "derived", "inferred"]])
    links: ListLinks


class ConceptInfo(Model):
    """A facet value with its labels and definition."""

    rdf_type: ClassVar[str | None] = "Concept"
    iri: str | None = Field(None, description="The concept's IRI (null for years).")
    slug: str = Field(description="The value as a parameter.", examples=["online"])
    label: str = Field(description="Preferred label.")
    alt_labels: list[str] = Field(default_factory=list, description="Synonyms (skos:altLabel).")
    hidden_labels: list[str] = Field(default_factory=list, description="Misspellings and variants (skos:hiddenLabel).")
    definition: str | None = Field(None, description="Definition.")
    notation: str | None = Field(None, description="Code (e.g. ISO 3166-1 for countries).")
    broader: list[str] = Field(default_factory=list, description="Slugs of the broader concepts.")
    depth: int = Field(0, description="Depth in the concept hierarchy.")
    count: int = Field(description="How many included studies have it (or a narrower value).")
    review_count: int | None = Field(None, description="How many studies with it the review counts without the map "
                                     "naming them (null: none).", examples=[2])
    review_note: str | None = Field(None, description="That count in the review's terms, with its section.")
    url: str | None = Field(None, description="The concept's page.")


class FacetInfo(Model):
    """A facet: a dimension by which studies are filtered and counted."""

    rdf_type: ClassVar[str | None] = "Facet"
    iri: str
    name: str = Field(description="The query parameter name.", examples=["challenge"])
    label: str = Field(description="Label.", examples=["challenge"])
    alt_labels: list[str] = Field(default_factory=list, description="Other words for the facet.")
    definition: str | None = None
    scheme: str | None = Field(None, description="Slug of the facet's concept scheme (null for years).")
    recorded: bool = Field(True, description=RECORDED)
    note: str | None = Field(None, description=RECORDED_NOTE, examples=["This map does not record evidence type."])
    values: list[ConceptInfo] = Field(description="The facet's values with their counts (none when the map does not "
                                      "record the facet).")


class FacetsPage(Model):
    total: int = Field(description="How many studies the map includes.", examples=[11])
    facets: list[FacetInfo]
    support: str = Field("inferred", description=SUPPORT_LEVEL)


class Mapping(Model):
    relation: str = Field(description="SKOS mapping relation.", examples=["closeMatch"])
    target: str = Field(description="IRI in another vocabulary (MeSH, schema.org, ...).")


class ConceptDetail(ConceptInfo):
    facet: str = Field(description="The facet name.")
    facet_label: str = Field(description="The facet label.")
    scheme: str = Field(description="The concept scheme's slug.")
    broader_concepts: list[ConceptRef] = Field(default_factory=list)
    narrower_concepts: list[ConceptRef] = Field(default_factory=list)
    mappings: list[Mapping] = Field(default_factory=list)


class ReviewCountInfo(Model):
    """A count the review gives for a value (or a narrower one), and how many of those studies the map names."""

    claim: str = Field(description="The claim's IRI (evm:StudyCountClaim).")
    label: str = Field(description="The claim's label.", examples=["Studies from United Kingdom"])
    stated: int = Field(description="The number the review gives.", examples=[2])
    section: str = Field(description="The review section.", examples=["3.2"])
    quote: str | None = Field(None, description="The review's words, verbatim.")
    attribution: str | None = Field(None, description="How the map attributes the claim (evm:attribution).",
                                    examples=["NotAttributable"])
    attributed: int = Field(description="Studies of the map matching the claim's scope at the support level.")
    unattributed: int = Field(description="Studies the review counts that the map does not name.")
    sentence: str = Field(description="The count in words.", examples=[
        "The review counts 2 studies from United Kingdom (3.2) without naming them"])


class ConceptPage(Model):
    concept: ConceptDetail
    total: int = Field(description="How many studies have the concept or a narrower one.")
    studies: list[Study] = Field(description="Those studies.")
    studies_url: str = Field(description="/api/studies URL of the same list.")
    review_counts: list[ReviewCountInfo] = Field(
        default_factory=list, description="The review's counts of studies with this value (or a narrower one) that "
        "the map does not fully name: 'the review does not say which' is not 'none'.")
    support: str = Field("inferred", description=SUPPORT_LEVEL)


class ReviewInfo(Model):
    """The review's bibliographic record and licence."""

    rdf_type: ClassVar[str | None] = "ScopingReview"
    iri: str
    slug: str
    title: str | None = None
    authors: str | None = None
    citation: str | None = None
    journal: str | None = None
    volume_pages: str | None = None
    year: int | None = None
    doi: str | None = None
    url: str | None = None
    issued: str | None = None
    license: str | None = Field(None, description="IRI of the licence.")
    rights: str | None = Field(None, description="The rights statement.")
    description: str | None = None
    search_date: str | None = None
    search_period: str | None = None
    keywords: list[str] = Field(default_factory=list)
    methodology: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    study_count: int = Field(description="Included studies in the map.")


class SearchSourceInfo(Model):
    rdf_type: ClassVar[str | None] = "SearchSource"
    iri: str
    label: str | None = None
    kind: str | None = Field(None, description="'database' or 'grey literature'.")


class CriterionInfo(Model):
    rdf_type: ClassVar[str | None] = "EligibilityCriterion"
    iri: str
    element: str | None = Field(None, description="PCC element: Population, Concept, Context, Other.")
    label: str | None = None
    description: str | None = None
    section: str | None = None


class FlowStageInfo(Model):
    rdf_type: ClassVar[str | None] = "FlowStage"
    iri: str
    order: int
    phase: str | None = None
    label: str
    records: int = Field(description="Number of records or studies at this stage.")
    derived: bool = Field(description="True when the number is not printed but follows from the printed ones.")
    rationale: str | None = None
    section: str | None = None
    quote: str | None = None


class ClaimRow(Model):
    """One count the review states, recomputed from the per-study facts."""

    iri: str
    label: str
    section: str
    kind: str
    stated: int = Field(description="The number the review prints.")
    recomputed: int | None = Field(None, description="The number the map gives (null when not attributable).")
    verdict: str = Field(description="'agrees', 'disagrees' or 'not attributable to studies'.")
    studies: list[int] = Field(default_factory=list, description="Reference numbers of the studies counted.")
    stated_studies: list[int] = Field(default_factory=list, description="Reference numbers the review cites.")
    attribution: str | None = None
    quote: str | None = None
    explanation: list[str] = Field(default_factory=list)


class ConclusionPassage(Model):
    """A passage of the review that states its own bottom line (evm:conclusion)."""

    passage: str = Field(description="The passage's IRI.")
    quote: str = Field(description="The review's words, verbatim.")
    section: str | None = Field(None, description="Review section number.", examples=["5"])
    section_title: str | None = Field(None, description="Review section title.", examples=["Conclusion"])


class ReviewPage(Model):
    review: ReviewInfo
    conclusion: list[ConclusionPassage] = Field(default_factory=list, description="The review's own bottom line: "
                                                "its conclusion, quoted with its section.")
    sources: list[SearchSourceInfo]
    criteria: list[CriterionInfo]
    flow: list[FlowStageInfo] = Field(description="The PRISMA-ScR flow, stage by stage.")
    claims: list[ClaimRow] = Field(description="The claims check: every stated count, recomputed.")
    claims_summary: dict[str, int] = Field(description="How many claims got each verdict.")
    notes: list[str] = Field(default_factory=list, description="Notes on the review's own text.")


class ClaimsPage(Model):
    """The claims check, for curators: every count the review states, recomputed from the per-study facts."""

    review: ReviewInfo
    claims: list[ClaimRow] = Field(description="Every stated count with the map's count and the verdict.")
    claims_summary: dict[str, int] = Field(description="How many claims got each verdict.")


class MatchInfo(Model):
    """Words of the question and what they were read as."""

    text: str = Field(description="The words as typed.", examples=["online"])
    kind: str = Field(description="'concept', 'value' (a year) or 'facet'.")
    facet: str = Field(description="The facet name.", examples=["delivery"])
    facet_label: str
    concept: ConceptRef | None = Field(None, description="The concept, for kind 'concept'.")
    value: str | None = Field(None, description="The value, for kind 'value'.")
    matched_label: str = Field(description="The vocabulary label the words matched.")
    used_as: str = Field(description="'filter', 'any value' (studies with any value of the facet), 'exclude' (studies "
                         "with the concept, or any value of the facet, are taken away: 'without burnout') or "
                         "'question' (the facet whose values are asked for, or the answer is broken down by).")
    alternatives: list[ConceptRef] = Field(default_factory=list, description="Other concepts with the same label.")


class CorrectionInfo(Model):
    word: str = Field(description="The word as typed.", examples=["burnuot"])
    corrected: str = Field(description="The vocabulary word it was read as.", examples=["burnout"])


class YearInfo(Model):
    """Years of the question, as read."""

    text: str = Field(description="The words as typed.", examples=["after 2022"])
    low: int | None = Field(None, description="The first year of the range (none: open).")
    high: int | None = Field(None, description="The last year of the range (none: open).")
    years: list[str] = Field(description="The map's years the range covers (those the query binds).")
    excluded: bool = Field(False, description="Whether studies of these years are taken away ('not in 2022').")


class Interpretation(Model):
    matches: list[MatchInfo]
    ignored: list[str] = Field(description="Words read as grammar or as the review's topic: they narrow nothing.")
    unknown: list[str] = Field(description="Content words that matched nothing in the map (never also corrected).")
    corrections: list[CorrectionInfo] = Field(description="Words read as a vocabulary word one typing slip away.")
    filters: dict[str, list[str]] = Field(description="The chosen values, as /api/studies parameters.")
    summary: str = Field(description="Every part of the reading in one sentence.")
    years: list[YearInfo] = Field(default_factory=list, description="Years read ('after 2022', '2019-2021').")
    search: list[str] = Field(default_factory=list, description="Words searched among the studies' authors, titles, "
                              "programme and manual names and journals (the studies found are ANDed).")
    topic: list[str] = Field(default_factory=list, description="Words of the review's topic (its keywords).")
    excluded: dict[str, list[str]] = Field(default_factory=dict, description="Values whose studies are taken away, "
                                           "by facet (all of a facet's top values for 'no challenges').")


class AnswerValue(Model):
    value: str
    label: str
    iri: str | None = None
    count: int = Field(description="Matching studies with this value (or a narrower one).")
    url: str | None = Field(None, description="The value's concept page.")
    studies_url: str | None = Field(None, description="/api/studies URL of the matching studies that have this "
                                    "value (none when the study list's parameters cannot state the question's "
                                    "selection: exclusions, 'and' within a facet, a search).")


class AnswerGroup(Model):
    """For a breakdown that lists studies ("which studies by modality"): one value and its matching studies."""

    value: str
    label: str
    iri: str | None = None
    studies: list[int] = Field(description="The reference numbers of the matching studies with this value.")


class ReviewValue(Model):
    """A value the review counts studies for without naming them (shown beside a breakdown's counts)."""

    value: str
    label: str
    iri: str
    count: int = Field(description="The studies the review counts with this value and does not name.")


class AskAnswer(Model):
    """A question, how it was read, and the answer."""

    question: str
    intent: str = Field(description="'studies', 'count' or 'values'.", examples=["studies"])
    understood: bool = Field(description="False when no concept was recognised: nothing was searched.")
    understanding: str = Field("understood", description="'understood'; 'partly' (content words matched nothing: "
                               "they are named in unknown, and no headline count is given); 'not' (nothing was "
                               "recognised, nothing searched); 'not recorded' (the question is about a facet the "
                               "map does not record, named in not_recorded: no count, no studies, as 'not recorded' "
                               "is not 'none').", examples=["understood"])
    not_recorded: list[str] = Field(default_factory=list, description="The facets the question is about that the "
                                    "map does not record (no study has a value of them).",
                                    examples=[["evidence-type"]])
    headline: int | None = Field(None, description="The number the answer states: the matching studies, or the "
                                 "review's count when the map can name none of them; none unless understood.")
    can_answer: str = Field("", description="What the map can answer, when words of the question were left out.")
    message: str = Field("", description="Anything the reader should know about the reading.")
    interpretation: Interpretation
    sparql: str | None = Field(
        None, description="The SPARQL query that ran to select the studies (as /api/studies shows for these filters)."
    )
    values_sparql: str | None = Field(None, description="The SPARQL query that ran to count the values, for 'values'.")
    total: int = Field(description="How many studies match.")
    values: list[AnswerValue] = Field(default_factory=list, description="For 'values': the values with counts.")
    values_facet: str | None = Field(None, description="For 'values': the facet asked about.")
    breakdown: bool = Field(False, description="Whether the answer is broken down by values_facet ('by design').")
    groups: list[AnswerGroup] = Field(default_factory=list, description="For a breakdown listing studies: each "
                                      "value with its studies.")
    groups_sparql: str | None = Field(None, description="For a breakdown listing studies: the query that ran.")
    review_count: int | None = Field(None, description="The review's count of the studies asked about, when it "
                                     "states one the map does not (fully) name.")
    review_counts: list[ReviewCountInfo] = Field(default_factory=list, description="The review's counts behind it.")
    review_values: list[ReviewValue] = Field(default_factory=list, description="For a breakdown of all studies: "
                                             "values the review counts without naming the studies.")
    without_value: int | None = Field(None, description="For 'values': matching studies with no value of it.")
    studies: list[Study] = Field(default_factory=list, description="One page of the matching studies: `limit` "
                                 "of them from `offset` (`total` in all; `links` to the next and previous pages).")
    limit: int = Field(description="Page size.", examples=[50])
    offset: int = Field(description="Studies skipped before this page.", examples=[0])
    links: PageLinks | None = Field(None, description="This page, and the next and previous pages of studies.")
    suggestions: list[ConceptRef] = Field(default_factory=list, description="Concepts close to unknown words.")
    studies_url: str | None = Field(None, description="/api/studies URL of the same studies: a stable link.")


class HomePage(Model):
    """The home page: the question box, the answer to the question asked (if any) and every facet."""

    total: int = Field(description="How many studies the map includes.")
    facets: list[FacetInfo]
    answer: AskAnswer | None = None


# -- the gap map (/api/gapmap and the /gapmap page) ----------------------------------------------------------------


class NamedFacet(Model):
    name: str = Field(description="The facet name.", examples=["challenge"])
    label: str = Field(description="The facet label.", examples=["challenge"])


class AxisValueInfo(Model):
    """A row or a column of the gap map: a concept of one of the axis' facets."""

    key: str = Field(description="The value's key on the axis (the concept slug, prefixed when the axis crosses "
                     "facets).", examples=["emotional-vulnerability-burnout"])
    facet: str = Field(description="The facet name.")
    slug: str = Field(description="The concept slug.")
    label: str = Field(description="The concept label.")
    iri: str | None = Field(None, description="The concept IRI.")


class AxisEntry(AxisValueInfo):
    depth: int = Field(0, description="Depth in the concept hierarchy.")
    count: int = Field(description="Studies with this value (the row's or column's total).")
    review_count: int | None = Field(None, description="Studies with this value the review counts without the map "
                                     "naming them (null: none).")
    review_note: str | None = Field(None, description="That count in the review's terms, with its section.")


class Axis(Model):
    facets: list[NamedFacet] = Field(description="The facets of the axis.")
    values: list[AxisEntry] = Field(description="The rows (or columns), in order.")


class CellStudy(Model):
    ref: int = Field(description="The study's reference number in the review.")
    citation: str | None = Field(None, description="Short citation.")
    slug: str = Field(description="The study's slug.")
    iri: str = Field(description="The study's IRI.")
    url: str | None = Field(None, description="The study's page (in the selected cell only).")


class SlugLabel(Model):
    slug: str
    label: str


class BreakdownCount(SlugLabel):
    count: int


class GapCell(Model):
    """One cell, as counts: the studies that have both the row's and the column's value, how they split by each
    breakdown facet, and where to list them (the studies themselves are one request away, at ``studies_url``)."""

    row: str = Field(description="The row's key (rows.values[].key).", examples=["emotional-support-validation"])
    col: str = Field(description="The column's key (cols.values[].key).", examples=["online"])
    count: int = Field(description="How many studies.")
    state: str = Field(description="'studies' (the cell holds studies), 'not attributed' (none named, but the review "
                       "counts studies with the row's or column's value without saying which) or 'gap' (no study "
                       "reported it).", examples=["gap"])
    gap: bool = Field(description="True for a true gap: no study in the cell, and no count of the review that might "
                      "cover it.")
    review_count: int | None = Field(None, description="For a cell whose row or column value has one: the studies "
                                     "the review counts for it without naming them (its words: the row's or column's "
                                     "review_note).")
    breakdown: dict[str, list[int]] = Field(description="Per breakdown facet (by name), the cell's studies with each "
                                            "of its values, in the order of breakdown_facets[].values (the last is "
                                            "'not stated'). A study with two values counts under both.",
                                            examples=[{"design": [3, 0, 1, 0, 0, 0, 1, 0]}])
    studies_url: str = Field(description="The cell's studies as JSON: /api/studies filtered by the row's and "
                             "column's values and the map's filters, or (when those parameters cannot say it) this "
                             "gap map with cell=row:col.",
                             examples=["/api/studies?component=emotional-support-validation&delivery=online"])


class GapCellDetail(Model):
    """The selected cell in full (the cell parameter): its row and column, breakdown with labels, and studies."""

    key: str = Field(description="row:col, the value of the cell parameter.")
    row: AxisValueInfo
    col: AxisValueInfo
    count: int = Field(description="How many studies.")
    gap: bool = Field(description="True for a true gap (see GapCell).")
    state: str = Field(description="'studies', 'not attributed' or 'gap' (see GapCell).")
    review_count: int | None = Field(None, description="For a cell whose row or column value has one: the studies "
                                     "the review counts for it without naming them.")
    review_note: str | None = Field(None, description="That count in the review's terms, with its section.")
    studies: list[CellStudy] = Field(description="The cell's studies in reference order: the first 100 (count says "
                                     "how many there are; studies_url lists them all).")
    breakdown: dict[str, list[BreakdownCount]] = Field(description="The cell's studies counted by each breakdown "
                                                       "facet (bubble colours), keyed by facet name.")
    studies_url: str = Field(description="Every study of the cell as JSON (see GapCell).")
    page_url: str | None = Field(None, description="The study list page of the cell (absent when the study list's "
                                 "parameters cannot say it: two values of one facet, or a facet already filtered).")


class BreakdownFacet(NamedFacet):
    values: list[BreakdownCount] = Field(description="The facet's values, then 'not-stated', each with its studies "
                                         "among all the map's: the order of every cell's breakdown counts.")


class CellCounts(Model):
    cells: int
    filled: int = Field(description="Cells holding studies.")
    gaps: int = Field(description="True gaps: cells no study reported.")
    not_attributed: int = Field(0, description="Cells without a named study where the review counts studies with "
                                "the row's or column's value without saying which.")


class GapRef(Model):
    row: str
    col: str


class GapMapLinks(Model):
    csv: str = Field(description="The matrix as CSV.")
    svg: str = Field(description="The bubble map as an SVG file.")
    png: str = Field(description="The bubble map as a PNG file.")
    page: str = Field(description="The gap map page.")


class GapMapBody(Model):
    """The evidence gap map: studies counted in every cell of two crossed facets, gaps listed. Its size follows the
    number of cells, not of studies."""

    caveat: str = Field(description="What the map does not say (no quality appraisal).")
    rows: Axis
    cols: Axis
    filters: dict[str, list[str]] = Field(description="The facet filters in force.")
    support: str | None = Field(None, description=SUPPORT_LEVEL)
    total: int = Field(description="Studies matching the filters.")
    breakdown_facets: list[BreakdownFacet] = Field(description="The facets counted inside each cell.")
    counts: CellCounts
    cells: list[GapCell]
    gaps: list[GapRef]
    links: GapMapLinks
    cell: GapCellDetail | None = Field(None, description="The cell named by the cell parameter, with its studies' "
                                       "pages.")


# -- the network views ---------------------------------------------------------------------------------------------


class NetworkKind(Model):
    kind: str = Field(examples=["challenge-cooccurrence"])
    url: str = Field(examples=["/api/network/challenge-cooccurrence"])


class NetworkKinds(Model):
    """The network views that can be requested."""

    count: int
    kinds: list[NetworkKind]


class NodeLinkGraph(Model):
    """A network as node-link JSON (networkx ``node_link_data`` with ``edges``): every node and edge attribute is a
    string, number or boolean."""

    directed: bool
    multigraph: bool
    graph: dict[str, str | int | float | bool]
    nodes: list[dict[str, str | int | float | bool]]
    edges: list[dict[str, str | int | float | bool]]


class Option(Model):
    value: str = Field(description="The parameter value.")
    label: str = Field(description="Its label.")


class NetworkLinks(Model):
    json_: str = Field(alias="json", description="The network as node-link JSON.")
    graphml: str
    gexf: str
    bipartite_graphml: str = Field(description="The study-concept network of the same studies, as GraphML.")
    similarity_json: str = Field(description="The study-similarity network of the same studies, as JSON.")

    model_config = ConfigDict(from_attributes=True, populate_by_name=True, serialize_by_alias=True)


class NetworkPair(Model):
    """A value of one facet and a value of another reported by the same studies (e.g. a challenge and an outcome)."""

    left: str = Field(description="The left value's label.", examples=["emotional vulnerability and burnout"])
    left_url: str = Field(description="The left value's page.")
    right: str = Field(description="The right value's label.")
    right_url: str = Field(description="The right value's page.")
    studies: int = Field(description="How many studies report both.", examples=[2])
    refs: str = Field(description="Their reference numbers.", examples=["41 44"])
    studies_url: str = Field(description="The list of those studies.")


class NetworkPage(Model):
    """The network page: a co-occurrence network of one facet, drawn, with its edges and central concepts."""

    kind: str = Field(description="The network shown.", examples=["challenge-cooccurrence"])
    kinds: list[Option] = Field(description="The co-occurrence networks that can be shown.")
    layout: str = Field(description="'circular' or 'spring'.")
    title: str
    filters: dict[str, list[str]] = Field(description="The facet filters in force.")
    studies: int = Field(description="Studies in the network (those matching the filters).")
    nodes: list[dict[str, str | int | float | bool]]
    edges: list[dict[str, str | int | float | bool]] = Field(description="Edges, heaviest first, with node labels "
                                                               "as a and b.")
    central: list[dict[str, str | int | float | bool]] = Field(description="The concepts that connect the most "
                                                                 "studies.")
    links: NetworkLinks
    pair_title: str = Field("", description="What the pairs answer, e.g. 'Outcomes reported with challenges'.")
    pair_facets: list[Option] = Field(default_factory=list, description="The two facets paired (left, right).")
    pairs: list[NetworkPair] = Field(default_factory=list, description="Every value of the left facet with every "
                                     "value of the right one that the same studies report, most studies first.")


# -- linked data pages ---------------------------------------------------------------------------------------------


class LinkedValue(Model):
    """One value of a property: a link (IRI), a literal, or a nested blank node (its rows)."""

    text: str
    href: str | None = None
    title: str = ""
    note: str = ""
    rows: list[LinkedRow] = Field(default_factory=list)


class LinkedRow(Model):
    predicate: LinkedValue
    values: list[LinkedValue]


class LinkedBlock(Model):
    """The properties of one subject of a description."""

    iri: str
    label: str
    href: str
    types: list[LinkedValue]
    rows: list[LinkedRow]


class ResourceDescription(Model):
    """The page of a dereferenced IRI: the resource's properties, then the findings and passages described with
    it. Its JSON twin is the JSON-LD document of the same description."""

    iri: str
    label: str
    main: LinkedBlock
    related: list[LinkedBlock]


class DocFact(Model):
    label: str
    refs: list[LinkedValue]


class TermDoc(Model):
    iri: str
    anchor: str
    curie: str
    label: str
    definition: str
    kind: str
    href: str
    alt_labels: list[str] = Field(default_factory=list)
    facts: list[DocFact] = Field(default_factory=list)
    depth: int = 0


class DocSection(Model):
    anchor: str
    title: str
    terms: list[TermDoc]


class SchemeDoc(Model):
    scheme: TermDoc
    concepts: list[TermDoc]


class OntologyDocPage(Model):
    """The ontology's documentation, generated from the vocabulary graph."""

    iri: str
    title: str
    description: str
    version_iri: str
    version_info: str
    metadata: list[DocFact]
    sections: list[DocSection]
    schemes: list[SchemeDoc]


LinkedValue.model_rebuild()


class ValidationRow(Model):
    severity: str = Field(description="Violation, Warning or Info.")
    focus: str = Field(description="The node the result is about.")
    path: str = Field(description="The property path, or ''.")
    message: str


class ValidationPage(Model):
    """The map's SHACL validation: the verdict, the version of the shapes and every result."""

    conforms: bool
    shapes_version: str
    report_url: str = Field(description="The sh:ValidationReport as Turtle.")
    report_text: str = Field(description="The validator's text report.")
    results: list[ValidationRow]
