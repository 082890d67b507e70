"""Synthetic evidence maps shaped like the bundled Dufour et al. 2025 map, for the store benchmark.

The shape is read from the real map, not written down here: for every kind of finding (design, country, evidence
type, modality, delivery, components, schedule, facilitation, outcomes, challenges, design features) the generator
learns from ``maps/dufour-2025`` how many values a study has, which concepts it uses and how often (findings, and the
review's own counts where a claim states more than the findings attribute, as for countries), whether the finding is
about the study or its intervention, which share of findings is derived, and which review section the supporting
passage comes from. Concepts of a scheme that the real map never uses get a small weight, so every concept and every
level of a hierarchy ("online" and its narrower "hybrid") is exercised.

Each synthetic study has a report (title, authors, year, DOI), an intervention and ~13 ``evm:Finding`` nodes, each
pointing to a passage (shared by the studies of a block, as a passage of the review cites several studies). Findings
are left for the product's loader to materialise, as in the real map. The file also holds the real map's own
vocabulary (``maps/dufour-2025/vocabulary.ttl``: the concepts of its topic, which the core vocabulary does not have),
so that it is a whole map by itself. The output is N-Triples (or Turtle) in a temporary folder; generated data is never
committed.

    python benchmarks/synthetic.py --studies 10000 [--format nt|ttl] [--seed 2025] [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import re
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.graph.loading import build_store
from evidencemap.graph.store import EvidenceMap
from evidencemap.resources import bundled_map_dir
from evidencemap.settings import Settings

GENERATOR_VERSION = 3
PASSAGE_BLOCK = 25  # studies whose findings of one value share a passage
UNUSED_CONCEPT_WEIGHT = 0.3  # weight (in studies of the real map) of a leaf concept the real map never uses
DATA = ns.DATA
RATIONALE = '"Forced by elimination among the counts of the review."'
XSD = ns.XSD


@dataclass(frozen=True)
class Dimension:
    """One kind of per-study finding, as the real map uses it."""

    predicate: str
    on_intervention: bool
    section: str
    value_counts: tuple[tuple[int, float], ...]  # (number of values a study has, weight)
    concepts: tuple[str, ...]
    weights: tuple[float, ...]
    derived_share: float
    evidence_type_share: float

    @property
    def local(self) -> str:
        return self.predicate.rsplit("#", 1)[-1]


@dataclass(frozen=True)
class Profile:
    dimensions: tuple[Dimension, ...]
    years: tuple[tuple[int, int], ...]
    sections: tuple[str, ...]
    evidence_types: tuple[str, ...]


@dataclass(frozen=True)
class SyntheticMap:
    path: Path
    studies: int
    triples: int


def _select(evidence_map: EvidenceMap, body: str) -> list[dict[str, object]]:
    return evidence_map.select(ns.sparql_prefixes() + body)


def real_profile(evidence_map: EvidenceMap | None = None) -> Profile:
    """What the synthetic studies imitate, measured on the bundled map."""
    evidence_map = evidence_map or EvidenceMap(store=build_store(), settings=Settings())
    studies = [str(r["study"]) for r in _select(evidence_map, "SELECT ?study WHERE { ?study a evm:IncludedStudy }")]
    findings = _select(
        evidence_map,
        """SELECT ?study ?subject ?p ?o ?support ?section ?etype WHERE {
             ?f a evm:Finding ; rdf:subject ?subject ; rdf:predicate ?p ; rdf:object ?o ; evm:support ?support .
             ?study a evm:IncludedStudy .
             FILTER(?subject = ?study || EXISTS { ?study evm:evaluates ?subject })
             OPTIONAL { ?f prov:wasDerivedFrom/evm:section/evm:sectionNumber ?section }
             OPTIONAL { ?f evm:findingEvidenceType ?etype } }""",
    )
    claimed = {
        str(r["c"]): int(r["n"])  # type: ignore[call-overload]
        for r in _select(
            evidence_map,
            """SELECT ?c (MAX(?count) AS ?n) WHERE {
                 ?claim evm:statedCount ?count ; evm:condition ?cond . ?cond evm:hasValue ?c .
                 FILTER NOT EXISTS { ?claim evm:condition ?other . FILTER(?other != ?cond) } } GROUP BY ?c""",
        )
    }
    leaves_by_scheme: dict[str, list[str]] = defaultdict(list)
    for r in _select(
        evidence_map,
        """SELECT ?c ?scheme WHERE { ?c a skos:Concept ; skos:inScheme ?scheme .
             FILTER NOT EXISTS { ?n skos:broader ?c } } ORDER BY ?c""",
    ):
        leaves_by_scheme[str(r["scheme"])].append(str(r["c"]))
    scheme_of = {
        str(r["c"]): str(r["scheme"])
        for r in _select(evidence_map, "SELECT ?c ?scheme WHERE { ?c a skos:Concept ; skos:inScheme ?scheme }")
    }

    by_predicate: dict[str, list[dict[str, object]]] = defaultdict(list)
    for row in findings:
        by_predicate[str(row["p"])].append(row)
    dimensions = []
    for predicate, rows in sorted(by_predicate.items()):
        per_study = Counter(str(r["study"]) for r in rows)
        value_counts = Counter(per_study.get(s, 0) for s in studies)
        used = Counter(str(r["o"]) for r in rows)
        scheme = scheme_of[next(iter(used))]
        weights = {c: float(max(n, claimed.get(c, 0))) for c, n in used.items()}
        for leaf in leaves_by_scheme[scheme]:
            weights.setdefault(leaf, max(UNUSED_CONCEPT_WEIGHT, float(claimed.get(leaf, 0))))
        sections = Counter(str(r["section"]) for r in rows if "section" in r)
        dimensions.append(
            Dimension(
                predicate=predicate,
                on_intervention=sum(r["subject"] != r["study"] for r in rows) > len(rows) / 2,
                section=sections.most_common(1)[0][0] if sections else "3.2",
                value_counts=tuple(sorted((k, float(n)) for k, n in value_counts.items())),
                concepts=tuple(sorted(weights)),
                weights=tuple(weights[c] for c in sorted(weights)),
                derived_share=sum(r["support"] == ns.EVM + "Derived" for r in rows) / len(rows),
                evidence_type_share=sum("etype" in r for r in rows) / len(rows),
            )
        )
    years = Counter(
        int(r["year"])  # type: ignore[call-overload]
        for r in _select(
            evidence_map,
            "SELECT ?year WHERE { ?s a evm:IncludedStudy ; evm:reportedIn/fabio:hasPublicationYear ?year }",
        )
    )
    etype_scheme = next(scheme_of[c] for d in dimensions if d.local == "evidenceType" for c in d.concepts)
    return Profile(
        dimensions=tuple(dimensions),
        years=tuple(sorted(years.items())),
        sections=tuple(sorted({d.section for d in dimensions})),
        evidence_types=tuple(leaves_by_scheme[etype_scheme]),
    )


def _iri(value: str) -> str:
    return f"<{value}>"


def _lit(value: str, datatype: str | None = None) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"^^<{datatype}>' if datatype else f'"{escaped}"'


def _slug(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1]


def _draw(rng: random.Random, concepts: tuple[str, ...], weights: tuple[float, ...], k: int) -> list[str]:
    """``k`` distinct concepts, weighted, without replacement."""
    pool, w = list(concepts), list(weights)
    chosen = []
    for _ in range(min(k, len(pool))):
        i = rng.choices(range(len(pool)), weights=w)[0]
        chosen.append(pool.pop(i))
        w.pop(i)
    return chosen


def triples(studies: int, profile: Profile, seed: int = 2025) -> Iterator[str]:
    """N-Triples lines of a synthetic map of ``studies`` studies (deterministic for a seed)."""
    rng = random.Random(seed)
    review = f"{DATA}review/synthetic-{studies}"
    rdf, evm = ns.RDF, ns.EVM
    a = _iri(rdf + "type")
    yield f"{_iri(review)} {a} {_iri(evm + 'ScopingReview')} ."
    yield f"{_iri(review)} {_iri(evm + 'slug')} {_lit(f'synthetic-{studies}')} ."
    yield f"{_iri(review)} {_iri(ns.DCTERMS + 'title')} {_lit(f'Synthetic evidence map of {studies} studies')} ."
    yield f"{_iri(review)} {_iri(ns.DCTERMS + 'license')} <https://creativecommons.org/publicdomain/zero/1.0/> ."
    sections = {}
    for number in profile.sections:
        section = f"{review}/section/{number}"
        sections[number] = section
        yield f"{_iri(section)} {a} {_iri(evm + 'ReviewSection')} ."
        yield f"{_iri(section)} {_iri(evm + 'sectionNumber')} {_lit(number)} ."
        yield f"{_iri(section)} {_iri(ns.DCTERMS + 'isPartOf')} {_iri(review)} ."
        yield f"{_iri(review)} {_iri(evm + 'hasSection')} {_iri(section)} ."
    yield from _flow(review, studies)

    years, year_weights = zip(*profile.years, strict=True)
    passages: set[str] = set()
    for i in range(1, studies + 1):
        study, report, intervention = (f"{DATA}{kind}/syn-{i}" for kind in ("study", "report", "intervention"))
        year = rng.choices(years, weights=year_weights)[0]
        citation = f"Author{i} et al. {year}"
        s = _iri(study)
        yield f"{s} {a} {_iri(evm + 'IncludedStudy')} ."
        yield f"{s} {_iri(evm + 'slug')} {_lit(f'syn-{i}')} ."
        yield f"{s} {_iri(evm + 'referenceNumber')} {_lit(str(i), XSD + 'integer')} ."
        yield f"{s} {_iri(evm + 'shortCitation')} {_lit(citation)} ."
        yield f"{s} {_iri(evm + 'includedIn')} {_iri(review)} ."
        yield f"{s} {_iri(evm + 'reportedIn')} {_iri(report)} ."
        yield f"{s} {_iri(evm + 'evaluates')} {_iri(intervention)} ."
        yield f"{_iri(review)} {_iri(evm + 'includesStudy')} {s} ."
        yield f"{_iri(report)} {a} {_iri(evm + 'StudyReport')} ."
        yield f"{_iri(report)} {_iri(ns.DCTERMS + 'title')} {_lit(f'Peer support programme evaluation {i}')} ."
        yield f"{_iri(report)} {_iri(evm + 'authors')} {_lit(f'Author{i} A, Coauthor B')} ."
        yield f"{_iri(report)} {_iri(ns.FABIO + 'hasPublicationYear')} {_lit(str(year), XSD + 'gYear')} ."
        yield f"{_iri(report)} {_iri(ns.PRISM + 'doi')} {_lit(f'10.5555/synthetic.{i}')} ."
        yield f"{_iri(intervention)} {a} {_iri(evm + 'Intervention')} ."
        yield f"{_iri(intervention)} {_iri(ns.RDFS + 'label')} {_lit(f'Peer support programme {i}')} ."

        block = (i - 1) // PASSAGE_BLOCK
        evidence_types: list[str] = []
        for dim in profile.dimensions:
            ks, kw = zip(*dim.value_counts, strict=True)
            values = _draw(rng, dim.concepts, dim.weights, rng.choices(ks, weights=kw)[0])
            if dim.local == "evidenceType":
                evidence_types = values
            subject = intervention if dim.on_intervention else study
            for value in values:
                finding = f"{review}/finding/syn-{i}--{dim.local}--{_slug(value)}"
                passage = f"{review}/passage/{dim.local}-{_slug(value)}-{block}"
                f = _iri(finding)
                derived = rng.random() < dim.derived_share
                yield f"{f} {a} {_iri(evm + 'Finding')} ."
                yield f"{f} {_iri(rdf + 'subject')} {_iri(subject)} ."
                yield f"{f} {_iri(rdf + 'predicate')} {_iri(dim.predicate)} ."
                yield f"{f} {_iri(rdf + 'object')} {_iri(value)} ."
                yield f"{f} {_iri(evm + 'support')} {_iri(evm + ('Derived' if derived else 'Cited'))} ."
                yield f"{f} {_iri(ns.PROV + 'wasDerivedFrom')} {_iri(passage)} ."
                if derived:
                    yield f"{f} {_iri(evm + 'rationale')} {RATIONALE} ."
                if evidence_types and rng.random() < dim.evidence_type_share:
                    yield f"{f} {_iri(evm + 'findingEvidenceType')} {_iri(rng.choice(evidence_types))} ."
                if passage not in passages:
                    passages.add(passage)
                    yield from _passage(passage, review, sections[dim.section], dim, value, block)
                if not derived:
                    yield f"{_iri(passage)} {_iri(evm + 'citesStudy')} {s} ."
        if i % PASSAGE_BLOCK == 0:
            passages.clear()


def _passage(passage: str, review: str, section: str, dim: Dimension, value: str, block: int) -> Iterator[str]:
    p = _iri(passage)
    selector = f"_:sel-{dim.local}-{_slug(value)}-{block}"
    quote = f"Studies of block {block} reported {_slug(value).replace('-', ' ')} ({dim.local})."
    yield f"{p} <{ns.RDF}type> <{ns.EVM}Passage> ."
    yield f"{p} <{ns.OA}hasSource> <{review}> ."
    yield f"{p} <{ns.EVM}section> <{section}> ."
    yield f"{p} <{ns.OA}hasSelector> {selector} ."
    yield f"{selector} <{ns.RDF}type> <{ns.OA}TextQuoteSelector> ."
    yield f"{selector} <{ns.OA}exact> {_lit(quote)} ."


def _flow(review: str, studies: int) -> Iterator[str]:
    """A PRISMA flow in the real map's shape, scaled to the number of studies."""
    identified = studies * 190
    stages = [
        ("identified", "identification", identified, False),
        ("screened", "screening", identified - 1, True),
        ("excluded-screening", "screening", identified - 1 - studies * 6, False),
        ("full-text-assessed", "eligibility", studies * 6, False),
        ("excluded-full-text", "eligibility", studies * 5, False),
        ("included", "included", studies, False),
    ]
    for order, (slug, phase, count, derived) in enumerate(stages, start=1):
        stage = _iri(f"{review}/flow/{slug}")
        yield f"{_iri(review)} <{ns.EVM}flowStage> {stage} ."
        yield f"{stage} <{ns.RDF}type> <{ns.EVM}FlowStage> ."
        yield f"{stage} <{ns.RDFS}label> {_lit(slug.replace('-', ' '))} ."
        yield f"{stage} <{ns.EVM}flowPhase> {_lit(phase)} ."
        yield f"{stage} <{ns.EVM}flowOrder> {_lit(str(order), XSD + 'integer')} ."
        yield f"{stage} <{ns.EVM}recordCount> {_lit(str(count), XSD + 'integer')} ."
        yield f"{stage} <{ns.EVM}countDerived> {_lit(str(derived).lower(), XSD + 'boolean')} ."
        if derived:
            yield f"{stage} <{ns.EVM}rationale> {_lit('Records identified minus the duplicate removed.')} ."


_TURTLE_PREFIXES = {
    "study": DATA + "study/",
    "report": DATA + "report/",
    "intervention": DATA + "intervention/",
    "evm": ns.EVM,
    "rdf": ns.RDF,
    "prov": ns.PROV,
    "oa": ns.OA,
}
_IRI = re.compile(r"<([^>]*)>")
_LOCAL = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def _compact(line: str) -> str:
    def short(match: re.Match[str]) -> str:
        iri = match.group(1)
        for prefix, namespace in _TURTLE_PREFIXES.items():
            if iri.startswith(namespace) and _LOCAL.fullmatch(iri[len(namespace):]):
                return f"{prefix}:{iri[len(namespace):]}"
        return match.group(0)

    return _IRI.sub(short, line)


def map_vocabulary() -> list[str]:
    """N-Triples lines of the real map's own vocabulary (the concepts its findings, and so the synthetic ones, use)."""
    path = bundled_map_dir() / "vocabulary.ttl"
    return [f"{triple} ." for triple in ox.parse(path=path, format=ox.RdfFormat.TURTLE)]


def write_map(studies: int, out_dir: Path | None = None, *, fmt: str = "nt", seed: int = 2025,
              profile: Profile | None = None) -> SyntheticMap:
    """Write a synthetic map of ``studies`` studies and return where (reusing an identical earlier file).

    :param fmt: ``nt`` (N-Triples) or ``ttl`` (Turtle with prefixes).
    """
    if fmt not in {"nt", "ttl"}:
        raise ValueError(f"Unknown format {fmt!r}: use nt or ttl.")
    folder = out_dir or Path(tempfile.gettempdir()) / "evidencemap-bench"
    folder.mkdir(parents=True, exist_ok=True)
    profile = profile or real_profile()
    # The file name carries everything the content depends on, so an identical earlier file is reused.
    digest = hashlib.sha256(f"{GENERATOR_VERSION}{seed}{profile!r}".encode()).hexdigest()[:10]
    path = folder / f"synthetic-{studies}-{digest}.{fmt}"
    count_file = path.with_name(path.name + ".count")
    if path.exists() and count_file.exists():
        return SyntheticMap(path, studies, int(count_file.read_text()))
    count = 0
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8") as out:
        if fmt == "ttl":
            out.writelines(f"@prefix {p}: <{n}> .\n" for p, n in _TURTLE_PREFIXES.items())
        for line in (*triples(studies, profile, seed), *map_vocabulary()):
            out.write((_compact(line) if fmt == "ttl" else line) + "\n")
            count += 1
    partial.replace(path)
    count_file.write_text(str(count))
    return SyntheticMap(path, studies, count)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--studies", type=int, required=True, help="number of studies")
    parser.add_argument("--format", choices=["nt", "ttl"], default="nt")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--out", type=Path, help="folder to write to (default: a folder in the temp dir)")
    args = parser.parse_args(argv)
    result = write_map(args.studies, args.out, fmt=args.format, seed=args.seed)
    print(f"{result.path}\t{result.studies} studies\t{result.triples} triples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
