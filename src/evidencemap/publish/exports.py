"""Exports of a map: RDF dumps of its graphs, and the pictures and networks built from it."""

from __future__ import annotations

import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.errors import BadRequest
from evidencemap.graph.store import EvidenceMap

RDF_FORMATS: dict[str, ox.RdfFormat] = {
    "ttl": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "nq": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
}
GRAPHS = {
    "vocabulary": ns.GRAPH_VOCABULARY,
    "data": ns.GRAPH_DATA,
    "claims": ns.GRAPH_CLAIMS,
    "inferred": ns.GRAPH_INFERRED,
}


def rdf_dump(evidence_map: EvidenceMap, fmt: str, graph: str = "all") -> bytes:
    """The map's triples in an RDF format: one named graph, or all (dataset formats keep the graphs; the others
    merge them)."""
    rdf_format = RDF_FORMATS[fmt]
    options = {} if rdf_format.supports_datasets else {"prefixes": ns.PREFIXES}
    store = evidence_map.store
    if graph != "all":
        name = ox.NamedNode(evidence_map.iri(GRAPHS[graph]))
        return store.dump(format=rdf_format, from_graph=name, **options)  # type: ignore[no-any-return]
    if rdf_format.supports_datasets:
        return store.dump(format=rdf_format)  # type: ignore[no-any-return]
    merged = ox.Store()
    merged.extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in store)
    return merged.dump(format=rdf_format, from_graph=ox.DefaultGraph(), **options)  # type: ignore[no-any-return]


VIEW_FORMATS = ("prisma-svg", "graphml", "gexf")


def export(evidence_map: EvidenceMap, fmt: str, graph: str = "all") -> bytes | str:
    """Dispatch an ``evidencemap export --format`` value: an RDF dump, the PRISMA-ScR diagram (SVG) or the
    study-concept network (GraphML, GEXF)."""
    if fmt in RDF_FORMATS:
        return rdf_dump(evidence_map, fmt, graph)
    if fmt == "prisma-svg":
        from evidencemap.render.prisma import prisma_svg

        return prisma_svg(evidence_map)
    if fmt in ("graphml", "gexf"):
        from evidencemap.model.vocabulary import load_vocabulary
        from evidencemap.views.network import network_gexf, network_graphml

        writer = network_graphml if fmt == "graphml" else network_gexf
        return writer(evidence_map, load_vocabulary(evidence_map))
    raise BadRequest(f"Unknown export format {fmt!r}.", hint=f"Use one of: {', '.join((*RDF_FORMATS, *VIEW_FORMATS))}.")
