"""A change as the map records and announces it: checked, numbered, journalled with the edition's new version and
its PROV record, and listed for /api/changes, the feeds and the "What changed" page.

Each change is a ``prov:Activity`` (and ``evm:MapChange``) in the map's changes graph: ``prov:wasAssociatedWith`` the
token's holder (a ``prov:Agent``), ``prov:endedAtTime``, ``rdfs:comment`` the message, ``prov:generated`` the studies
it adds or updates, ``prov:invalidated`` those it retracts, and its added and removed triples as N-Quads
(``evm:addedTriples``, ``evm:removedTriples``). The edition's ``dcat:version`` goes up by one patch and its
``dcterms:modified`` becomes the day of the change, in the same transaction as the change.

The claims check (model/claims.py) guards corrections: a change to a study the review included (an update, or new
facts) that turns a claim of the review from "agrees" into "disagrees" is refused. Adding a study the review did not
have, or retracting one, changes what the map holds beyond the review's text by design; the counts the review states
then differ from the map's, which `evidencemap check-claims` shows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.errors import InvalidParameter
from evidencemap.graph.change_checks import check_subgraph
from evidencemap.graph.iris import IriSpace
from evidencemap.graph.journal import Record, apply, nquads, rebased
from evidencemap.graph.store import EvidenceMap
from evidencemap.graph.tokens import TokenEntry
from evidencemap.graph.values import Values
from evidencemap.graph.writes import DCAT, LivingMap, Problem, canonical_quads
from evidencemap.model.claims import AGREES, DISAGREES, check_claims
from evidencemap.model.edits import Edit, description
from evidencemap.model.facets import Selection
from evidencemap.model.studies import facet_values_query
from evidencemap.model.vocabulary import Vocabulary
from evidencemap.settings import Settings

XSD = ns.XSD
DCTERMS = ns.DCTERMS


class Refused(InvalidParameter):
    """A change that does not conform: nothing was written (422). ``problems`` says why, each with its focus."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        lines = [f"{p.focus}: {p.message}" for p in problems]
        super().__init__(f"The change does not conform ({len(problems)} problem(s)); nothing was written. "
                         + " ".join(lines[:20]),
                         hint="Fix each problem and send the change again.")
        self.problems = tuple(problems)


def change_iri(slug: str, number: int) -> str:
    return f"{ns.DATA}map/{slug}/change/{number}"


def agent_iri(slug: str, holder: str) -> str:
    from urllib.parse import quote

    return f"{ns.DATA}map/{slug}/agent/{quote(holder, safe='')}"


def bumped(version: str) -> str:
    """The next patch version: ``1.1.1`` -> ``1.1.2``.

    >>> bumped("2.0.0"), bumped("")
    ('2.0.1', '0.0.1')
    """
    parts = ([*version.split("."), "0", "0", "0"])[:3] if version else ["0", "0", "0"]
    major, minor, patch = (int(p) if p.isdigit() else 0 for p in parts)
    return f"{major}.{minor}.{patch + 1}"


# -- facet values, for subscriptions -----------------------------------------------------------------------------

def facet_values(vocabulary: Vocabulary, quads: Sequence[ox.Quad], study: str) -> dict[str, list[str]]:
    """``{facet name: [concept IRIs or literal values]}`` of ``study`` as ``quads`` (its description) state it;
    read with the facets' own paths from a small store of those quads alone."""
    store = ox.Store()
    store.extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in quads)
    small = EvidenceMap(store=store, settings=_settings())
    values: dict[str, set[str]] = {}
    bound = Values.column("study", [ox.NamedNode(study)])
    for row in small.select(facet_values_query(vocabulary), bound):
        facet = next((f for f in vocabulary.concept_facets if f.iri == row["facet"]), None)
        if facet is not None:
            values.setdefault(facet.name, set()).add(str(row["value"]))
    for facet in vocabulary.facets:
        if facet.is_concept_facet:
            continue
        path = "/".join(f"<{p}>" for p in facet.path)
        for row in small.select(f"SELECT ?value WHERE {{ ?study {path} ?value }}", bound):
            values.setdefault(facet.name, set()).add(str(row["value"]))
    return {name: sorted(found) for name, found in sorted(values.items())}


def _settings() -> Settings:
    return Settings()


def matches(vocabulary: Vocabulary, selection: Selection, values: dict[str, list[str]]) -> bool:
    """Whether a study with these facet values is in ``selection`` (a value matches its broader concepts)."""
    def held(choice_facet: str, wanted: set[str], literals: set[str]) -> bool:
        own = values.get(choice_facet, [])
        if literals & set(own):
            return True
        facet = vocabulary.facet(choice_facet)
        for value in own:
            found = vocabulary.concept_by_iri(value)
            if value in wanted or (found and {c.iri for c in facet.ancestors(found[1])} & wanted):
                return True
        return False

    for choice in selection.choices:
        if not held(choice.facet.name, {c.iri for c in choice.concepts}, set(choice.literals)):
            return False
    for choice in selection.exclusions:
        if held(choice.facet.name, {c.iri for c in choice.concepts}, set(choice.literals)):
            return False
    return True


def affects(vocabulary: Vocabulary, selection: Selection, record: Record) -> bool:
    """Whether ``record`` adds, updates or retracts a study that is in ``selection`` before or after it."""
    if not record.affects:
        return False
    return any(matches(vocabulary, selection, states.get(when, {}))
               for states in record.affects.values() for when in ("before", "after") if when in states)


# -- making the record -------------------------------------------------------------------------------------------

def _edition_quads(living: LivingMap, day: str) -> tuple[list[ox.Quad], list[ox.Quad], str]:
    edition = living.edition()
    if edition is None:
        return [], [], ""
    iri, version, graph = edition
    node, g = ox.NamedNode(iri), ox.NamedNode(graph)
    removed = [q for q in _canonical(living, living.map.quads(ox.NamedNode(living.map.iri(iri))))
               if q.predicate.value in (DCAT + "version", DCTERMS + "modified")]
    new_version = bumped(version)
    added = [ox.Quad(node, ox.NamedNode(DCAT + "version"), ox.Literal(new_version), g),
             ox.Quad(node, ox.NamedNode(DCTERMS + "modified"), ox.Literal(day, datatype=ox.NamedNode(XSD + "date")), g)]
    return added, removed, new_version


def _canonical(living: LivingMap, quads: Sequence[ox.Quad]) -> list[ox.Quad]:
    return canonical_quads(living.map, quads)


def prov_quads(living: LivingMap, number: int, holder: str, time: str, message: str, edit: Edit,
               added: str, removed: str, version: str) -> list[ox.Quad]:
    """The PROV record of one change, in the map's changes graph."""
    n, lit = ox.NamedNode, ox.Literal
    g = n(living.changes_graph())
    change, agent = n(change_iri(living.slug, number)), n(agent_iri(living.slug, holder))
    prov = ns.PROV
    quads = [
        ox.Quad(change, n(ns.RDF + "type"), n(prov + "Activity"), g),
        ox.Quad(change, n(ns.RDF + "type"), n(ns.EVM + "MapChange"), g),
        ox.Quad(change, n(ns.RDFS + "label"), lit(f"Change {number} to map {living.slug}", language="en"), g),
        ox.Quad(change, n(DCTERMS + "identifier"), lit(str(number), datatype=n(XSD + "integer")), g),
        ox.Quad(change, n(prov + "wasAssociatedWith"), agent, g),
        ox.Quad(change, n(prov + "endedAtTime"), lit(time, datatype=n(XSD + "dateTime")), g),
        ox.Quad(change, n(ns.RDFS + "comment"), lit(message), g),
        ox.Quad(change, n(ns.EVM + "addedTriples"), lit(added), g),
        ox.Quad(change, n(ns.EVM + "removedTriples"), lit(removed), g),
        ox.Quad(agent, n(ns.RDF + "type"), n(prov + "Agent"), g),
        ox.Quad(agent, n(ns.RDFS + "label"), lit(holder), g),
    ]
    if version:
        quads.append(ox.Quad(change, n(DCAT + "version"), lit(version), g))
    verb = prov + ("invalidated" if edit.kind == "retract" else "generated")
    quads.extend(ox.Quad(change, n(verb), n(study), g) for study in edit.studies)
    return quads


def _review_studies(living: LivingMap) -> set[str]:
    rows = living.map.select(ns.sparql_prefixes(("evm",)) + "SELECT ?s WHERE { ?r evm:includesStudy ?s }")
    return {living.map.canonical(str(r["s"])) for r in rows}


def _claims_problems(living: LivingMap, vocabulary: Vocabulary, edit: Edit) -> list[Problem]:
    """Claims that agree now and would disagree after a correction of a study the review included."""
    if edit.kind not in ("update", "facts") or not set(edit.studies) & _review_studies(living):
        return []
    before = {r.iri: r.verdict for r in check_claims(living.map, vocabulary)}
    staged = ox.Store()
    staged.extend(living.map.store)
    base = living.map.settings.base_iri
    served = IriSpace(base).served
    apply(staged, [rebased(q, served) for q in edit.added], [rebased(q, served) for q in edit.removed])
    after = check_claims(EvidenceMap(store=staged, settings=living.map.settings), vocabulary)
    return [Problem(r.iri, f"The review's claim \"{r.label}\" ({r.section}: {r.stated}) agrees with the map now "
                           f"and would not after this change (recomputed: {r.recomputed}).")
            for r in after if r.verdict == DISAGREES and before.get(r.iri) == AGREES]


def submit(living: LivingMap, vocabulary: Vocabulary, edit: Edit, token: TokenEntry, message: str,
           now: datetime | None = None) -> Record:
    """Check ``edit``, then record and apply it as the map's next change.

    :raises Refused: (422) with the shapes' and the claims check's messages; nothing is written then.
    """
    message = message.strip()
    if not message:
        raise InvalidParameter("A change needs a message: say why (\"Added Smith 2026, found in the May search\").")
    if not edit.added and not edit.removed:
        raise InvalidParameter("The change changes nothing: the map already holds it.")
    with living.lock:
        if living.remote is not None and living.engine_at < len(living.journal):
            # A change the remote engine did not apply goes first, so that this one is checked against the map the
            # engine (and so every reader) holds; an engine still unreachable refuses this change before it is
            # journalled (503).
            living.catch_up()
        problems = check_subgraph(living, edit.focus, edit.added, edit.removed) if edit.focus else []
        problems.extend(_claims_problems(living, vocabulary, edit) if not problems else [])
        if problems:
            raise Refused(problems)
        moment = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        time = moment.isoformat().replace("+00:00", "Z")
        edition_added, edition_removed, version = _edition_quads(living, moment.date().isoformat())
        number = living.journal.next_number
        added_text, removed_text = nquads(edit.added), nquads(edit.removed)
        prov = prov_quads(living, number, token.holder, time, message, edit, added_text, removed_text, version)
        affected: dict[str, dict[str, dict[str, list[str]]]] = {}
        for study in edit.studies:
            states: dict[str, dict[str, list[str]]] = {}
            now_quads = description(living, study)
            if edit.kind != "add":
                states["before"] = facet_values(vocabulary, now_quads, study)
            if edit.kind != "retract":
                gone = set(edit.removed)
                after = [q for q in now_quads if q not in gone] + list(edit.added)
                states["after"] = facet_values(vocabulary, after, study)
            affected[study] = states
        record = Record(
            number=number, map=living.slug, holder=token.holder, time=time, message=message, kind=edit.kind,
            studies=edit.studies, added=nquads([*edit.added, *edition_added, *prov]),
            removed=nquads([*edit.removed, *edition_removed]), version=version, affects=affected,
        )
        living.commit(record)
        return record


# -- listing -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChangeInfo:
    """One change as /api/changes lists it."""

    number: int
    iri: str
    time: str
    holder: str
    message: str
    kind: str
    version: str
    studies: tuple[str, ...]
    added: int
    removed: int


def change_info(evidence_map: EvidenceMap, record: Record) -> ChangeInfo:
    return ChangeInfo(
        number=record.number, iri=evidence_map.iri(change_iri(record.map, record.number)), time=record.time,
        holder=record.holder, message=record.message, kind=record.kind, version=record.version,
        studies=tuple(evidence_map.iri(s) for s in record.studies),
        added=record.added.count("\n"), removed=record.removed.count("\n"),
    )


def as_dict(info: ChangeInfo) -> dict[str, object]:
    return dataclasses.asdict(info)


def retraction_of(living: LivingMap, identifier: str) -> Record | None:
    """The change that retracted the study ``identifier`` (slug or IRI), if one did and none added it back."""
    found: Record | None = None
    for record in living.journal:
        for study in record.studies:
            if identifier in (study, ns.last_segment(study)):
                found = record if record.kind == "retract" else None
    return found
