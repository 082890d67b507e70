"""What a review team's change is, as quads: a study added, updated or retracted, facts added, claims added.

A body is Turtle, JSON-LD, or a study in the JSON shape ``GET /api/studies/{id}`` returns (its ``facts`` become
findings: each needs its ``value``, ``support`` and ``passage``; ``rationale`` for derived and inferred ones). Blank
nodes are named when the change is made (``<change's study>/genid/<n>``): the journal must name every quad it
removes or adds again (a blank node would be a fresh node at each replay). Each finding's statement is added to the
inferred graph with it, as the loader materialises it (graph/loading.py), so the change is complete in the journal.

Every quad has canonical IRIs here; graph/writes.py rebases them to the IRIs the map is served under.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.errors import BadRequest, InvalidParameter, NotFound
from evidencemap.graph.writes import LivingMap, canonical_quads
from evidencemap.model.studies import find_study
from evidencemap.model.vocabulary import Vocabulary

RDF_TYPE = ns.RDF + "type"
EVM = ns.EVM
TURTLE, JSONLD, JSON = "text/turtle", "application/ld+json", "application/json"
BODY_TYPES = (JSON, TURTLE, JSONLD)
INCLUDED_STUDY = EVM + "IncludedStudy"
FINDING = EVM + "Finding"
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")


class Conflict(BadRequest):
    """The change contradicts the map as it is (a study that already exists) (409)."""

    status = 409


class Gone(NotFound):
    """A study that was retracted (410)."""

    status = 410


@dataclass
class Edit:
    """One change before it is checked and recorded: canonical quads."""

    kind: str  # add, update, retract, facts, claims
    studies: tuple[str, ...]
    added: list[ox.Quad] = field(default_factory=list)
    removed: list[ox.Quad] = field(default_factory=list)
    focus: tuple[str, ...] = ()  # the resources to validate as the change leaves them

    def net(self) -> Edit:
        """The edit without quads it both removes and adds (an update that keeps them)."""
        added, removed = set(self.added), set(self.removed)
        return Edit(self.kind, self.studies, sorted(added - removed, key=str), sorted(removed - added, key=str),
                    self.focus)


# -- bodies ----------------------------------------------------------------------------------------------------


def parse_body(living: LivingMap, vocabulary: Vocabulary, body: bytes, media_type: str,
               study: str | None = None) -> list[ox.Triple]:
    """The triples of a request body, with canonical IRIs and no blank nodes.

    :raises BadRequest: for a body that is not valid in its format.
    """
    if media_type == JSON:
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise BadRequest(f"The body is not valid JSON: {exc}.") from None
        if not isinstance(data, dict):
            raise BadRequest("The body must be one study as a JSON object, in the shape GET /api/studies/{id} "
                             "returns.")
        triples = study_from_json(living, vocabulary, data, study)
    else:
        fmt = ox.RdfFormat.TURTLE if media_type == TURTLE else ox.RdfFormat.JSON_LD
        try:
            parsed = list(ox.parse(body, format=fmt, base_iri=ns.DATA))
        except (SyntaxError, ValueError) as exc:
            raise BadRequest(f"The body is not valid {fmt.name}: {exc}") from None
        served = living.map.settings.base_iri
        triples = [ox.Triple(q.subject, q.predicate, q.object) for q in parsed]
        if served != ns.CANONICAL_BASE:
            quads = (ox.Quad(t.subject, t.predicate, t.object) for t in triples)
            triples = [ox.Triple(q.subject, q.predicate, q.object) for q in canonical_quads(living.map, quads)]
    if not triples:
        raise BadRequest("The body holds no triples.")
    return named_blank_nodes(triples, study or _subject_of_type(triples, INCLUDED_STUDY) or _owner(triples))


def _owner(triples: Sequence[ox.Triple]) -> str:
    """The IRI a body's blank nodes are named under when it describes no study: its first named subject (a claim),
    so that two changes never name two different nodes alike."""
    named = sorted(t.subject.value for t in triples if isinstance(t.subject, ox.NamedNode))
    if not named:
        raise BadRequest("The body names no resource: give each claim (or study) an IRI.")
    return named[0]


def named_blank_nodes(triples: Sequence[ox.Triple], owner: str) -> list[ox.Triple]:
    """Every blank node of ``triples`` replaced by an IRI under ``owner`` (``<owner>/genid/<label>``)."""
    names: dict[str, ox.NamedNode] = {}

    def name(term: ox.BlankNode) -> ox.NamedNode:
        return names.setdefault(term.value, ox.NamedNode(f"{owner}/genid/{len(names) + 1}"))

    out = []
    for t in triples:
        subject = name(t.subject) if isinstance(t.subject, ox.BlankNode) else t.subject
        obj = name(t.object) if isinstance(t.object, ox.BlankNode) else t.object
        if isinstance(subject, ox.Triple) or isinstance(obj, ox.Triple):
            raise BadRequest("Quoted triples (RDF-star) are not accepted in a change.")
        out.append(ox.Triple(subject, t.predicate, obj))
    return out


def _subject_of_type(triples: Iterable[ox.Triple], cls: str) -> str | None:
    found = sorted({t.subject.value for t in triples if t.predicate.value == RDF_TYPE
                    and isinstance(t.object, ox.NamedNode) and t.object.value == cls
                    and isinstance(t.subject, ox.NamedNode)})
    if len(found) > 1:
        raise BadRequest(f"A change describes one study; this body describes {len(found)}: {', '.join(found)}.")
    return found[0] if found else None


# -- the JSON shape of a study ----------------------------------------------------------------------------------

def _prefix_of(living: LivingMap, kind: str) -> str:
    """Where the map's resources of a kind live (``.../study/``), read from an existing study's IRIs, so that a new
    study's IRIs follow the map's own pattern."""
    rows = living.map.select(ns.sparql_prefixes(("evm",)) + """
        SELECT ?study ?report ?intervention ?finding WHERE {
          ?study a evm:IncludedStudy ; evm:reportedIn ?report ; evm:evaluates ?intervention .
          ?finding rdf:subject ?study } LIMIT 1""".replace("rdf:subject", f"<{ns.RDF}subject>"))
    if rows:
        iri = living.map.canonical(str(rows[0][kind]))
        return iri[: iri.rstrip("/").rfind("/") + 1]
    return f"{ns.DATA}{kind}/"


def iri_of(value: str) -> ox.NamedNode:
    """An IRI given in a body.

    :raises InvalidParameter: for a string that is not a valid absolute IRI.
    """
    try:
        return ox.NamedNode(value)
    except ValueError as exc:
        raise InvalidParameter(f"{value!r} is not a valid IRI: {exc}.") from None


def _text(data: dict[str, object], key: str, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise InvalidParameter(f"The study needs {key!r}.")
        return None
    if not isinstance(value, str | int):
        raise InvalidParameter(f"{key!r} must be a string.")
    return str(value)


def _concept(vocabulary: Vocabulary, value: object, facet_name: str | None) -> str:
    """A concept IRI from a fact's value: an IRI, a slug of the fact's facet, or an object with one of them."""
    if isinstance(value, dict):
        value = value.get("iri") or value.get("slug")
    if not isinstance(value, str) or not value:
        raise InvalidParameter("Each fact needs a value: a concept's IRI or slug.")
    if value.startswith(("http://", "https://")):
        return value
    if facet_name:
        facet = vocabulary.facet(facet_name)
        for concept in facet.concepts:
            if concept.slug == value:
                return concept.iri
        raise InvalidParameter(f"No value {value!r} in facet {facet_name!r}.",
                               allowed=[c.slug for c in facet.concepts])
    raise InvalidParameter(f"Value {value!r} is a slug without a facet: give the fact's facet, or the concept's IRI.")


def study_from_json(living: LivingMap, vocabulary: Vocabulary, data: dict[str, object],
                    study: str | None = None) -> list[ox.Triple]:
    """The triples of a study given in the JSON shape of ``GET /api/studies/{id}``."""
    slug = _text(data, "id", required=True) or ""
    if not SLUG.fullmatch(slug):
        raise InvalidParameter(f"A study's id is a slug of lowercase letters, digits and hyphens, not {slug!r}.")
    ref = data.get("ref")
    if not isinstance(ref, int) or isinstance(ref, bool) or ref < 1:
        raise InvalidParameter("A study needs 'ref', the positive integer of its reference in the review.")
    iri = study or _prefix_of(living, "study") + slug
    report = str(data.get("report") or _prefix_of(living, "report") + slug)
    intervention_data = data.get("intervention") or {}
    if not isinstance(intervention_data, dict):
        raise InvalidParameter("'intervention' must be an object with 'label' and 'description'.")
    intervention = str(intervention_data.get("iri") or _prefix_of(living, "intervention") + slug)
    review = _review_of(living)
    n, lit = iri_of, ox.Literal
    xsd = ns.XSD
    out: list[ox.Triple] = []

    def add(s: str, p: str, o: ox.NamedNode | ox.Literal) -> None:
        out.append(ox.Triple(n(s), n(p), o))

    citation = _text(data, "citation", required=True) or ""
    add(iri, RDF_TYPE, n(INCLUDED_STUDY))
    add(iri, EVM + "slug", lit(slug))
    add(iri, EVM + "referenceNumber", lit(str(ref), datatype=n(xsd + "integer")))
    add(iri, EVM + "shortCitation", lit(citation))
    add(iri, ns.RDFS + "label", lit(citation, language="en"))
    add(iri, EVM + "reportedIn", n(report))
    if review:
        add(iri, EVM + "includedIn", n(review))
    add(report, RDF_TYPE, n(EVM + "StudyReport"))
    for key, prop in (("title", ns.DCTERMS + "title"), ("authors", EVM + "authors"),
                      ("journal", ns.PRISM + "publicationName"), ("doi", ns.PRISM + "doi")):
        value = _text(data, key)
        if value:
            add(report, prop, lit(value))
    year = _text(data, "year")
    if year:
        add(report, ns.FABIO + "hasPublicationYear", lit(year, datatype=n(xsd + "gYear")))
    if intervention_data:
        add(iri, EVM + "evaluates", n(intervention))
        add(intervention, RDF_TYPE, n(EVM + "Intervention"))
        label = _text(intervention_data, "label")
        if label:
            add(intervention, ns.RDFS + "label", lit(label, language="en"))
        description = _text(intervention_data, "description")
        if description:
            add(intervention, ns.DCTERMS + "description", lit(description, language="en"))
    out.extend(facts_from_json(living, vocabulary, data.get("facts") or [], iri, intervention, slug))
    return out


def facts_from_json(living: LivingMap, vocabulary: Vocabulary, facts: object, study: str, intervention: str | None,
                    slug: str) -> list[ox.Triple]:
    """Findings from a list of facts (``facet`` or ``property``, ``value``, ``support``, ``passage``, and
    ``rationale`` / ``detail``; ``subject_kind`` "intervention" for a fact about the intervention)."""
    if not isinstance(facts, list):
        raise InvalidParameter("'facts' must be a list of facts.")
    n, lit = iri_of, ox.Literal
    prefix = _prefix_of(living, "finding")
    by_name = {f.name: f for f in vocabulary.concept_facets}
    out: list[ox.Triple] = []
    for i, fact in enumerate(facts):
        if not isinstance(fact, dict):
            raise InvalidParameter(f"Fact {i + 1} must be an object.")
        facet_name = fact.get("facet")
        prop = fact.get("property")
        if not prop and isinstance(facet_name, str) and facet_name in by_name:
            prop = by_name[facet_name].path[-1]
        if not isinstance(prop, str) or not prop:
            raise InvalidParameter(f"Fact {i + 1} needs its facet or property.", allowed=sorted(by_name))
        value = _concept(vocabulary, fact.get("value"), facet_name if isinstance(facet_name, str) else None)
        support = fact.get("support")
        if not isinstance(support, str) or not support:
            raise InvalidParameter(f"Fact {i + 1} needs its support: cited, derived, inferred or extracted.")
        support_iri = support if support.startswith("http") else EVM + support.capitalize()
        passage = fact.get("passage")
        if not isinstance(passage, str) or not passage:
            raise InvalidParameter(f"Fact {i + 1} needs the IRI of the passage of the review it rests on.")
        about_intervention = fact.get("subject_kind") == "intervention" or (
            isinstance(facet_name, str) and facet_name in by_name and len(by_name[facet_name].path) == 2)
        subject = intervention if about_intervention and intervention else study
        finding = f"{prefix}{slug}--{prop.rsplit('#', 1)[-1]}--{ns.last_segment(value)}"
        for p, o in ((RDF_TYPE, n(FINDING)), (ns.RDF + "subject", n(subject)), (ns.RDF + "predicate", n(prop)),
                     (ns.RDF + "object", n(value)), (EVM + "support", n(support_iri)),
                     (ns.PROV + "wasDerivedFrom", n(passage))):
            out.append(ox.Triple(n(finding), n(p), o))
        for key in ("rationale", "detail"):
            text = fact.get(key)
            if isinstance(text, str) and text:
                out.append(ox.Triple(n(finding), n(EVM + key), lit(text, language="en")))
    return out


REVIEW = ns.sparql_prefixes(("evm",)) + "SELECT ?review WHERE { ?review evm:includesStudy ?s } LIMIT 1"


def _review_of(living: LivingMap) -> str | None:
    rows = living.map.select(REVIEW)
    return living.map.canonical(str(rows[0]["review"])) if rows else None


# -- a study's description in the store -------------------------------------------------------------------------

DESCRIPTION = ns.sparql_prefixes(("evm", "rdf")) + """
SELECT DISTINCT ?node WHERE {
  { ?study evm:reportedIn ?node }
  UNION { ?study evm:evaluates ?node }
  UNION { ?node rdf:subject ?study }
  UNION { ?study evm:evaluates ?i . ?node rdf:subject ?i }
}"""


def description(living: LivingMap, study: str) -> list[ox.Quad]:
    """The quads (canonical) describing ``study``: its own, its report's, its intervention's, its findings' (and
    their ``genid`` nodes), in the data graph, and the findings' statements in the inferred graph."""
    evidence_map = living.map
    own_iri = evidence_map.iri(study)
    nodes = [own_iri, *(str(r["node"]) for r in evidence_map.select(DESCRIPTION, {"study": ox.NamedNode(own_iri)}))]
    quads: list[ox.Quad] = []
    seen: set[str] = set()
    while nodes:
        node = nodes.pop()
        if node in seen:
            continue
        seen.add(node)
        for quad in evidence_map.quads(subject=ox.NamedNode(node)):
            quads.append(quad)
            if isinstance(quad.object, ox.NamedNode) and quad.object.value.startswith(node + "/genid/"):
                nodes.append(quad.object.value)
    inferred = ox.NamedNode(evidence_map.iri(living.inferred_graph()))
    data_graphs = {q.graph_name for q in quads} - {inferred}
    own = [q for q in quads if q.graph_name in data_graphs]
    # The inferred statements about the study and its intervention (each rests on a finding of the description).
    subjects = {ox.NamedNode(evidence_map.iri(study))} | {
        q.object for q in own if q.predicate.value == evidence_map.iri(EVM + "evaluates")}
    for subject in subjects:
        if isinstance(subject, ox.NamedNode | ox.BlankNode):
            own.extend(evidence_map.quads(subject=subject, graph=inferred))
    return canonical_quads(evidence_map, own)


def materialised(living: LivingMap, triples: Iterable[ox.Triple]) -> list[ox.Quad]:
    """``triples`` in the data graph, and each finding's statement in the inferred graph."""
    data, inferred = ox.NamedNode(living.data_graph()), ox.NamedNode(living.inferred_graph())
    listed = list(triples)
    quads = [ox.Quad(t.subject, t.predicate, t.object, data) for t in listed]
    by_finding: dict[str, dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]] = {}
    findings = {t.subject.value for t in listed if t.predicate.value == RDF_TYPE
                and isinstance(t.object, ox.NamedNode) and t.object.value == FINDING
                and isinstance(t.subject, ox.NamedNode)}
    for t in listed:
        if isinstance(t.subject, ox.NamedNode) and t.subject.value in findings and not isinstance(t.object, ox.Triple):
            by_finding.setdefault(t.subject.value, {})[t.predicate.value] = t.object
    for parts in by_finding.values():
        s, p, o = (parts.get(ns.RDF + k) for k in ("subject", "predicate", "object"))
        if isinstance(s, ox.NamedNode) and isinstance(p, ox.NamedNode) and o is not None:
            quads.append(ox.Quad(s, p, o, inferred))
    return quads


# -- the edits ----------------------------------------------------------------------------------------------------

def _one_study(triples: Sequence[ox.Triple]) -> str:
    study = _subject_of_type(triples, INCLUDED_STUDY)
    if study is None:
        raise InvalidParameter("The body describes no study (nothing typed evm:IncludedStudy).")
    return study


def exists(living: LivingMap, study: str) -> bool:
    return bool(living.map.quads(ox.NamedNode(living.map.iri(study)), ox.NamedNode(RDF_TYPE),
                                 ox.NamedNode(living.map.iri(INCLUDED_STUDY))))


def add_study(living: LivingMap, triples: Sequence[ox.Triple]) -> Edit:
    study = _one_study(triples)
    if exists(living, study):
        raise Conflict(f"Study {study} is already in the map.", hint="Use PUT /api/studies/{id} to update it.")
    quads = materialised(living, triples)
    return Edit("add", (study,), quads, [], _focus(triples))


# What the JSON shape of a study states, on its record, report and intervention and on its findings; a JSON update
# replaces these and keeps everything else the map says about the resources that remain (other types, the study's
# reference-list passage, a report's citation and URL, an intervention's manual, a finding's evidence type or sheet
# cell), so that the JSON GET returns can be sent back without losing what it does not show.
JSON_RECORD = {
    EVM + "slug", EVM + "referenceNumber", EVM + "shortCitation", ns.RDFS + "label", EVM + "reportedIn",
    EVM + "includedIn", EVM + "evaluates", ns.DCTERMS + "title", EVM + "authors", ns.PRISM + "publicationName",
    ns.PRISM + "doi", ns.FABIO + "hasPublicationYear", ns.DCTERMS + "description",
}
JSON_FINDING = {
    ns.RDF + "subject", ns.RDF + "predicate", ns.RDF + "object", EVM + "support", ns.PROV + "wasDerivedFrom",
    EVM + "rationale", EVM + "detail",
}


def update_study(living: LivingMap, identifier: str, triples: Sequence[ox.Triple], *,
                 json_shape: bool = False) -> Edit:
    """The study's description replaced by ``triples`` (its IRI stays). From the JSON shape (``json_shape``), only
    what that shape states is replaced: the other triples of the study's resources that remain are kept, and a
    finding the JSON no longer lists is removed whole."""
    study = living.map.canonical(find_study(living.map, identifier))
    given = _one_study(triples)
    if given != study:
        raise InvalidParameter(f"The body describes {given}, not {study}: a study's IRI stays the same across "
                               "versions (retract it and add a new one to rename it).")
    current = description(living, study)
    new = materialised(living, triples)
    if json_shape:
        inferred = ox.NamedNode(living.inferred_graph())
        remaining = {q.subject for q in new if q.graph_name != inferred}
        findings = {q.subject for q in new if q.predicate.value == RDF_TYPE and q.object == ox.NamedNode(FINDING)}
        new.extend(q for q in current if q.subject in remaining and q.graph_name != inferred
                   and q.predicate.value not in (JSON_FINDING if q.subject in findings else JSON_RECORD))
    return Edit("update", (study,), new, current, _focus(triples)).net()


def retract_study(living: LivingMap, identifier: str) -> Edit:
    study = living.map.canonical(find_study(living.map, identifier))
    return Edit("retract", (study,), [], description(living, study), ())


def add_facts(living: LivingMap, identifier: str, triples: Sequence[ox.Triple]) -> Edit:
    """Findings about the study or its intervention (a correction of a fact is a new finding plus, if needed, the
    study's update)."""
    study = living.map.canonical(find_study(living.map, identifier))
    current = description(living, study)
    subjects = {study} | {q.object.value for q in current
                          if q.predicate.value == EVM + "evaluates" and isinstance(q.object, ox.NamedNode)}
    for t in triples:
        if t.predicate.value == ns.RDF + "subject" and t.object.value not in subjects:  # type: ignore[union-attr]
            raise InvalidParameter(f"A fact of {study} must be about the study or its intervention, not "
                                   f"{t.object}.")
    edit = Edit("facts", (study,), materialised(living, triples), [], (*_focus(triples), study))
    return edit.net() if not set(edit.added) <= set(current) else Edit("facts", (study,), [], [], ())


CLAIM_CLASSES = {EVM + "Claim", EVM + "StudyCountClaim", EVM + "FlowCountClaim"}


def add_claims(living: LivingMap, triples: Sequence[ox.Triple]) -> Edit:
    """Claims of the review, with their conditions and passages: every resource the body describes must be a claim
    or hang from one (a condition, a passage), so that the claims graph holds only claims."""
    claims_in = {t.subject for t in triples if t.predicate.value == RDF_TYPE and isinstance(t.object, ox.NamedNode)
                 and t.object.value in CLAIM_CLASSES}
    if not claims_in:
        raise InvalidParameter("The body describes no claim (nothing typed evm:Claim, evm:StudyCountClaim or "
                               "evm:FlowCountClaim).")
    reached = set(claims_in)
    for _ in range(3):  # a claim's conditions, passages and their selectors
        reached |= {t.object for t in triples if t.subject in reached and isinstance(t.object, ox.NamedNode)}
    stray = sorted(str(t.subject) for t in triples if t.subject not in reached)
    if stray:
        raise InvalidParameter(f"The body describes resources that are not claims or parts of one: {stray[0]}.")
    claims = ox.NamedNode(_claims_graph(living))
    quads = [ox.Quad(t.subject, t.predicate, t.object, claims) for t in triples]
    return Edit("claims", (), quads, [], _focus(triples))


def _claims_graph(living: LivingMap) -> str:
    own = ns.map_graph(living.slug, "claims")
    return own if living.map.iri(own) in set(living.map.named_graphs()) else ns.GRAPH_CLAIMS


def _focus(triples: Sequence[ox.Triple]) -> tuple[str, ...]:
    return tuple(sorted({t.subject.value for t in triples if isinstance(t.subject, ox.NamedNode)}))
