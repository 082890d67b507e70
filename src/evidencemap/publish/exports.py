"""Exports of a map: RDF dumps of its graphs, and the pictures and networks built from it.

An export is named by the short name of an RDF format (:data:`evidencemap.graph.formats.RDF_FORMATS`) or by one of
:data:`VIEW_EXPORTS`, a view of the map written as a file format of :data:`~evidencemap.graph.formats.FILE_FORMATS`.
"""

from __future__ import annotations

import pyoxigraph as ox

from evidencemap import namespaces as ns
from evidencemap.errors import BadRequest
from evidencemap.graph.formats import FILE_FORMATS, RDF_FORMATS, Format
from evidencemap.graph.store import EvidenceMap

# The RDF formats a map is exported in (N3 is read, not written, by the product).
DUMP_SERIALISATIONS: tuple[Format, ...] = RDF_FORMATS.select("ttl", "nt", "nq", "trig", "jsonld", "rdfxml")
# view export name -> the file format it is written in
VIEW_EXPORTS: dict[str, Format] = {
    "prisma-svg": FILE_FORMATS["svg"],
    "graphml": FILE_FORMATS["graphml"],
    "gexf": FILE_FORMATS["gexf"],
}
EXPORT_NAMES: tuple[str, ...] = (*(f.name for f in DUMP_SERIALISATIONS), *VIEW_EXPORTS)
# The graphs a dump can be limited to: the vocabulary (the core's and each map's own), or one part of every map.
GRAPHS = ("vocabulary", "data", "claims", "inferred")


def graphs_named(evidence_map: EvidenceMap, graph: str) -> list[str]:
    """The named graphs (canonical IRIs) ``export --graph NAME`` writes."""
    parts = [ns.map_graph(slug, graph) for slug in evidence_map.map_slugs()]
    return [ns.GRAPH_VOCABULARY, *parts] if graph == "vocabulary" else parts


def dump_format(fmt: str) -> Format:
    """The RDF format of a dump named ``fmt`` (``ttl``...); :raises BadRequest: listing the names, for another."""
    found = RDF_FORMATS.get(fmt)
    if found is None or found not in DUMP_SERIALISATIONS:
        raise BadRequest(f"Unknown RDF format {fmt!r}.",
                         hint=f"Use one of: {', '.join(f.name for f in DUMP_SERIALISATIONS)}.")
    return found


def rdf_dump(evidence_map: EvidenceMap, fmt: str, graph: str = "all") -> bytes:
    """The map's triples in an RDF format: one named graph, or all (dataset formats keep the graphs; the others
    merge them)."""
    rdf_format = dump_format(fmt).rdf_format
    assert rdf_format is not None  # every format of the RDF family has one
    prefixes = None if rdf_format.supports_datasets else dict(ns.PREFIXES)
    if graph != "all":
        quads = [q for name in graphs_named(evidence_map, graph)
                 for q in evidence_map.quads(graph=ox.NamedNode(evidence_map.iri(name)))]
        return ox.serialize([q.triple for q in quads], format=rdf_format, prefixes=prefixes) or b""
    quads = evidence_map.quads()
    if rdf_format.supports_datasets:
        return ox.serialize(quads, format=rdf_format) or b""
    # A triple format merges the named graphs: a triple stated in two graphs is written once.
    merged = dict.fromkeys(q.triple for q in quads)
    return ox.serialize(list(merged), format=rdf_format, prefixes=prefixes) or b""


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
    raise BadRequest(f"Unknown export format {fmt!r}.", hint=f"Use one of: {', '.join(EXPORT_NAMES)}.")
