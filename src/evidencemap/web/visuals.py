"""HTTP for the pictures of the map: the evidence gap map, the PRISMA-ScR flow diagram and the network views.

The computing is in :mod:`evidencemap.views.gapmap`, :mod:`evidencemap.render.prisma` and
:mod:`evidencemap.views.network`; the drawing in :mod:`evidencemap.render.svg`. Both pages work without JavaScript:
each gap-map cell is a link to the page showing that cell's studies, and the same matrix is given as a table for
screen readers and keyboards.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from markupsafe import Markup

from evidencemap.errors import BadRequest
from evidencemap.model.facets import Selection
from evidencemap.model.recorded import is_recorded, not_recorded_sentence, recorded_facets
from evidencemap.model.support import support_levels
from evidencemap.model.vocabulary import Facet
from evidencemap.publish.linkeddata import path_for_iri
from evidencemap.render.prisma import prisma_svg
from evidencemap.render.raster import png_from_svg
from evidencemap.render.svg import (
    bubble_map,
    cell_glyph,
    facet_colours,
    fragment,
    legend_swatch,
    legend_values,
    network_drawing,
    serialise,
)
from evidencemap.views import gapmap
from evidencemap.views import network as net
from evidencemap.views.gapmap import Cell, GapMap, build_gap_map
from evidencemap.web import inputs
from evidencemap.web.api_common import ERRORS
from evidencemap.web.context import AppContext, get_context, rooted
from evidencemap.web.inputs import (
    CSV,
    GAPMAP_FORMATS,
    GEXF,
    GRAPHML,
    JSON_ONLY,
    NETWORK_FORMATS,
    PNG,
    PNG_ONLY,
    SVG,
    SVG_ONLY,
)
from evidencemap.web.models import (
    GapCellDetail,
    GapMapBody,
    NetworkKind,
    NetworkKinds,
    NetworkLinks,
    NetworkPage,
    NetworkPair,
    NodeLinkGraph,
    Option,
)
from evidencemap.web.templating import render_page

router = APIRouter()
Context = Annotated[AppContext, Depends(get_context)]

GAPMAP_PARAMS = ("rows", "cols", "colour", "format", "cell", "breakdown", "support")
NETWORK_PARAMS = ("format", "layout")
NETWORK_PAGE_PARAMS = ("kind", "layout", "format")
CELL_STUDIES = 100  # the studies a selected cell lists (the rest: its studies_url, a paged study list)
EXPORTS = {GRAPHML: ("graphml", net.graphml_bytes), GEXF: ("gexf", net.gexf_bytes)}
FILTERS = {
    "name": "filters",
    "in": "query",
    "description": "Facet filters, as on /api/studies (?delivery=online): the studies the view is drawn over.",
    "required": False,
    "style": "form",
    "explode": True,
    "schema": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
}


def _query(*names: str) -> list[dict[str, Any]]:
    """OpenAPI descriptions of the plain string parameters ``names`` (read by web/inputs.py, not by FastAPI)."""
    return [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}} for n in names]


# -- parameters ------------------------------------------------------------------------------------------------


def _recorded_names(context: AppContext, facets: Sequence[Facet]) -> list[str]:
    """The names of the facets of ``facets`` the map records (model/recorded.py): the only ones offered."""
    return [f.name for f in recorded_facets(context.evidence_map, facets)]


def _refuse_unrecorded(context: AppContext, name: str, allowed: Sequence[str]) -> None:
    """:raises BadRequest: when ``name`` is a facet the map does not record (rather than "unknown")."""
    found = next((f for f in context.vocabulary.facets if f.name == name), None)
    if found is not None and not is_recorded(context.evidence_map, found):
        raise BadRequest(f"{not_recorded_sentence(found)[:-1]} (facet {name!r}): no study has a value of it.",
                         hint=f"Use one of: {', '.join(allowed)}.", allowed=allowed)


def _colour_facet(context: AppContext, value: str | None) -> Facet | None:
    vocabulary = context.vocabulary
    names = _recorded_names(context, vocabulary.concept_facets)
    default = next((n for n in gapmap.default_facets(vocabulary, gapmap.COLOUR) if n in names), "none")
    _refuse_unrecorded(context, (value or "").strip(), [*names, "none"])
    chosen = inputs.choice(value, [*names, "none"], "colour", default)
    return None if chosen == "none" else vocabulary.facet(chosen)


def _gap_map(request: Request, context: AppContext) -> tuple[GapMap, Facet | None, Cell | None]:
    vocabulary = context.vocabulary
    selection = inputs.selection(vocabulary, request.query_params.multi_items(), GAPMAP_PARAMS, context.evidence_map)
    colour = _colour_facet(context, inputs.one(request, "colour"))
    names = _recorded_names(context, vocabulary.concept_facets)
    asked = [n.strip() for n in (inputs.one(request, "breakdown") or "").split(",") if n.strip()]
    for name in asked:
        _refuse_unrecorded(context, name, names)
        inputs.choice(name, names, "breakdown facet", name)
    breakdown = [n for n in names if n in asked]
    breakdown = breakdown or [n for n in gapmap.default_facets(vocabulary, gapmap.COLOUR) if n in names]
    if colour is not None and colour.name not in breakdown:
        breakdown.append(colour.name)
    cell_key = inputs.one(request, "cell")
    support = inputs.support_level(context.evidence_map, inputs.one(request, "support"))
    with inputs.choices_checked():
        gap_map = build_gap_map(
            context.evidence_map,
            vocabulary,
            rows=inputs.one(request, "rows"),
            cols=inputs.one(request, "cols"),
            selection=selection,
            breakdown=breakdown,
            max_support=support,
        )
        return gap_map, colour, gap_map.parse_cell(cell_key) if cell_key else None


def _gapmap_params(gap_map: GapMap, colour: Facet | None, context: AppContext, **extra: str) -> dict[str, Any]:
    """The gap map's parameters (a share link): axes, colour, filters and a support level stricter than the
    default."""
    params: dict[str, Any] = {"rows": gap_map.rows.names, "cols": gap_map.cols.names,
                              "colour": colour.name if colour else "none"}
    params.update(gap_map.selection.as_params())
    params.update(inputs.support_params(context.evidence_map, gap_map.max_support))
    params.update(extra)
    return params


def _url(path: str, params: dict[str, Any]) -> str:
    """A link to ``path`` with ``params``, under the site answering the request (a map's: ``/maps/{slug}``)."""
    return rooted(f"{path}?{urlencode(params, doseq=True)}" if params else path)


class CellLinks:
    """Where the studies of each cell are listed: the study list (``/api/studies``, ``/studies``) filtered by the
    cell's row and column values and the map's filters, when those parameters can say it (the two values are of
    different facets, and neither facet is filtered already: values of one facet are OR-ed there); otherwise the gap
    map's own view of that one cell (``cell=row:col``)."""

    def __init__(self, gap_map: GapMap, colour: Facet | None, context: AppContext) -> None:
        self.gap_map = gap_map
        filters = gap_map.selection.as_params()
        self.filtered = set(filters) if gap_map.selection.as_url else None
        self.tail = urlencode(
            [*((k, v) for k, values in filters.items() for v in values),
             *inputs.support_params(context.evidence_map, gap_map.max_support)]
        )
        self.own = _gapmap_params(gap_map, colour, context)

    def listable(self, cell: Cell) -> bool:
        row, col = cell.row.facet.name, cell.col.facet.name
        return self.filtered is not None and row != col and row not in self.filtered and col not in self.filtered

    def studies(self, cell: Cell, path: str = "/api/studies") -> str | None:
        """The study list of the cell at ``path`` (None when its parameters cannot say it)."""
        if not self.listable(cell):
            return None
        pairs = urlencode([(cell.row.facet.name, cell.row.slug), (cell.col.facet.name, cell.col.slug)])
        return f"{path}?{pairs}" + (f"&{self.tail}" if self.tail else "")

    def api(self, cell: Cell) -> str:
        """A link to the cell's studies as JSON: the study list, or the gap map with this cell."""
        return self.studies(cell) or _url("/api/gapmap", {**self.own, "cell": cell.key})


def _cell(gap_map: GapMap, cell: Cell, links: CellLinks, context: AppContext) -> GapCellDetail:
    """The selected cell in full, with each study's page (the first CELL_STUDIES of them) and the study list."""
    data = gap_map.cell_dict(cell, limit=CELL_STUDIES)
    for study in data["studies"]:
        study["url"] = path_for_iri(context.evidence_map, study["iri"]) or study["iri"]
    data["studies_url"] = links.api(cell)
    data["page_url"] = links.studies(cell, "/studies")
    return GapCellDetail.model_validate(data)


def gap_map_body(gap_map: GapMap, colour: Facet | None, cell: Cell | None, context: AppContext) -> GapMapBody:
    """The gap map's page model: the JSON of /api/gapmap and the data of the /gapmap page. Its size follows the
    number of cells, not of studies: each cell has its counts and a link to its studies."""
    params = _gapmap_params(gap_map, colour, context)
    links = CellLinks(gap_map, colour, context)
    data = gap_map.to_dict()
    for entry, one in zip(data["cells"], gap_map.ordered_cells(), strict=True):
        entry["studies_url"] = links.api(one)
    data["links"] = {
        "csv": _url("/api/gapmap", {**params, "format": "csv"}),
        "svg": _url("/api/gapmap.svg", params),
        "png": _url("/api/gapmap.png", params),
        "page": _url("/gapmap", params),
    }
    data["cell"] = _cell(gap_map, cell, links, context) if cell else None
    return GapMapBody.model_validate(data)


def _download(gap_map: GapMap, colour: Facet | None, cell: Cell | None) -> str:
    return serialise(bubble_map(gap_map, colour, selected=cell.key if cell else None))


# -- gap map ---------------------------------------------------------------------------------------------------


@router.get("/api/gapmap", tags=["visuals"], summary="The evidence gap map of two crossed facets",
            response_model=GapMapBody, openapi_extra={"parameters": [*_query(*GAPMAP_PARAMS), FILTERS]},
            responses={200: {"content": {CSV: {}, SVG: {}}, "description": "JSON, CSV or SVG."}, **ERRORS})
def api_gapmap(request: Request, context: Context) -> Response:
    """The matrix of ``rows`` x ``cols`` (facet names, comma-separated; by default the facets the ontology gives the
    gap-map roles "rows" and "columns", e.g. modality and component x outcome) over the studies matching the facet
    filters, as JSON, CSV (``format=csv``) or an SVG bubble map (``format=svg``, coloured by ``colour``). Each cell
    gives its count, its breakdown counts and ``studies_url``, the link to its studies; ``cell=row:col`` adds that
    cell in full under ``cell``, with its first studies."""
    gap_map, colour, cell = _gap_map(request, context)
    media = inputs.media_type(request, GAPMAP_FORMATS, inputs.one(request, "format"))
    if media == CSV:
        # A byte-order mark first, so that Excel reads the file as UTF-8 (accents intact).
        return Response("\ufeff" + gap_map.to_csv(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="evidencemap-gapmap.csv"'})
    if media == SVG:
        return Response(_download(gap_map, colour, cell), media_type=SVG)
    body = gap_map_body(gap_map, colour, cell, context).model_dump(mode="json", by_alias=True)
    if body["cell"] is None:
        del body["cell"]  # present only when a cell is asked for
    return JSONResponse(body)


@router.get("/api/gapmap.svg", tags=["visuals"], summary="The evidence gap map as an SVG picture (a download)",
            response_class=Response, openapi_extra={"parameters": [*_query(*GAPMAP_PARAMS), FILTERS]},
            responses={200: {"content": {SVG: {}}}, **ERRORS})
def api_gapmap_svg(request: Request, context: Context) -> Response:
    """The bubble map of /api/gapmap with the same parameters, as a file."""
    gap_map, colour, cell = _gap_map(request, context)
    inputs.media_type(request, SVG_ONLY, inputs.one(request, "format"))
    return Response(_download(gap_map, colour, cell), media_type=SVG,
                    headers={"Content-Disposition": 'attachment; filename="evidencemap-gapmap.svg"'})


@router.get("/api/gapmap.png", tags=["visuals"], summary="The evidence gap map as a PNG picture (a download)",
            response_class=Response, openapi_extra={"parameters": [*_query(*GAPMAP_PARAMS), FILTERS]},
            responses={200: {"content": {PNG: {}}}, **ERRORS})
def api_gapmap_png(request: Request, context: Context) -> Response:
    """The bubble map of /api/gapmap with the same parameters, drawn as a PNG (twice its size, for print)."""
    gap_map, colour, cell = _gap_map(request, context)
    inputs.media_type(request, PNG_ONLY, inputs.one(request, "format"))
    return Response(png_from_svg(_download(gap_map, colour, cell), zoom=2.0), media_type=PNG,
                    headers={"Content-Disposition": 'attachment; filename="evidencemap-gapmap.png"'})


@router.get("/gapmap", include_in_schema=False)
def gapmap_page(request: Request, context: Context) -> Response:
    gap_map, colour, cell = _gap_map(request, context)
    params = _gapmap_params(gap_map, colour, context)

    def href(c: Cell) -> str:
        return _url("/gapmap", {**params, "cell": c.key}) + "#cell-studies"

    page = gap_map_body(gap_map, colour, cell, context)
    colours = facet_colours(gap_map, colour)
    largest = max((c.count for c in gap_map.cells.values()), default=0)
    glyphs = {key: Markup(cell_glyph(gap_map, c, colour, colours, largest)) for key, c in gap_map.cells.items()}
    legend = [(label, n, Markup(legend_swatch(colours.get(slug, "#bdbdbd"))))
              for slug, label, n in legend_values(gap_map, colour)]
    vocabulary = context.vocabulary
    chosen = {c.facet.name: {x.slug for x in c.concepts} | set(c.literals) for c in gap_map.selection.choices}
    return render_page(
        request, "gapmap.html", page, json_url=_url("/api/gapmap", params),
        gap_map=gap_map,
        href=href,
        glyphs=glyphs,
        legend=legend,
        largest=largest,
        unattributed_swatch=Markup(legend_swatch("#ffffff", unattributed=True)),
        colour=colour.name if colour else "none",
        colour_label=colour.label if colour else None,
        colour_choices=[(f.name, f.label) for f in gap_map.colour_facets],
        support_levels=support_levels(context.evidence_map).kinds,
        facets=[f for f in vocabulary.facets if is_recorded(context.evidence_map, f) or f.name in chosen],
        axis_choices=_axis_choices(context),
        chosen=chosen,
    )


def _axis_choices(context: AppContext) -> list[tuple[str, str]]:
    """Axis options for the form: the default row pair, then every facet alone; only facets the map records."""
    vocabulary = context.vocabulary
    recorded = _recorded_names(context, vocabulary.facets)
    choices: list[tuple[str, str]] = []
    rows = gapmap.default_facets(vocabulary, gapmap.ROWS)
    if all(n in recorded for n in rows) and len(rows) > 1:
        choices.append((",".join(rows), " and ".join(vocabulary.facet(n).label for n in rows)))
    return choices + [(f.name, f.label) for f in vocabulary.facets if f.name in recorded]


# -- PRISMA ----------------------------------------------------------------------------------------------------


@router.get("/api/prisma.svg", tags=["visuals"], summary="The PRISMA-ScR flow diagram (SVG)",
            response_class=Response, openapi_extra={"parameters": _query("review")},
            responses={200: {"content": {SVG: {}}}, **ERRORS})
def api_prisma(request: Request, context: Context) -> Response:
    """Drawn from the review's ``evm:FlowStage`` nodes; ``review`` picks a review by slug when the map has several."""
    inputs.media_type(request, SVG_ONLY)
    return Response(prisma_svg(context.evidence_map, inputs.one(request, "review")), media_type=SVG)


@router.get("/review/prisma.svg", include_in_schema=False)
def review_prisma(request: Request, context: Context) -> Response:
    return api_prisma(request, context)


# -- networks --------------------------------------------------------------------------------------------------


@router.get("/api/network", tags=["visuals"], summary="The network views that can be requested",
            response_model=NetworkKinds, responses=ERRORS, openapi_extra={"parameters": _query("format")})
def api_networks(request: Request, context: Context) -> Response:
    inputs.media_type(request, JSON_ONLY, inputs.one(request, "format"))
    kinds = net.network_kinds(context.vocabulary, context.evidence_map)
    body = NetworkKinds(count=len(kinds), kinds=[NetworkKind(kind=k, url=rooted(f"/api/network/{k}")) for k in kinds])
    return JSONResponse(body.model_dump(mode="json"))


@router.get("/api/network/{kind}", tags=["visuals"], summary="A network view as node-link JSON, GraphML or GEXF",
            response_model=NodeLinkGraph, openapi_extra={"parameters": [*_query(*NETWORK_PARAMS), FILTERS]},
            responses={200: {"content": {GRAPHML: {}, GEXF: {}}, "description": "JSON, GraphML or GEXF."},
                       **ERRORS})
def api_network(kind: str, request: Request, context: Context) -> Response:
    """``study-concept`` (bipartite), ``<facet>-cooccurrence`` (e.g. challenge-cooccurrence; edge weight = studies
    sharing both) or ``study-similarity``; facet filters restrict the studies; ``format=graphml|gexf`` downloads."""
    selection = inputs.selection(context.vocabulary, request.query_params.multi_items(), NETWORK_PARAMS,
                                 context.evidence_map)
    media = inputs.media_type(request, NETWORK_FORMATS, inputs.one(request, "format"))
    graph = net.build_network(context.evidence_map, context.vocabulary, kind, selection)
    if media in EXPORTS:
        extension, write = EXPORTS[media]
        return Response(write(graph), media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="evidencemap-{kind}.{extension}"'})
    return JSONResponse(net.node_link(graph))


def pair_facets(context: AppContext) -> tuple[Facet, Facet] | None:
    """The two facets the network page pairs ("which outcome goes with which challenge"): the first facet the
    ontology gives the gap map's "alternative columns" role (left) and the first of its "columns" (right), of those
    the map records (none when it records neither)."""
    left = recorded_facets(context.evidence_map, context.vocabulary.facets_in_role(gapmap.ALTERNATIVE_COLUMNS))
    right = recorded_facets(context.evidence_map, context.vocabulary.facets_in_role(gapmap.COLUMNS))
    return (left[0], right[0]) if left and right and left[0] != right[0] else None


def _pairs(context: AppContext, bipartite: Any, facets: tuple[Facet, Facet], selection: Selection) -> list[NetworkPair]:
    left, right = facets
    filters = selection.as_params()
    support = dict(inputs.support_params(context.evidence_map, None))

    out = []
    for pair in net.pairs_between(bipartite, left, right):
        params = {**filters, **support}
        for facet, node in ((left, pair.left), (right, pair.right)):
            params[facet.name] = sorted({*params.get(facet.name, []), str(node["slug"])})
        out.append(NetworkPair(
            left=str(pair.left["label"]), left_url=_concept_url(context, str(pair.left["iri"])),
            right=str(pair.right["label"]), right_url=_concept_url(context, str(pair.right["iri"])),
            studies=pair.count, refs=pair.refs, studies_url=_url("/studies", params),
        ))
    return out


def _concept_url(context: AppContext, iri: str) -> str:
    """The clinicians' page of a concept, /concepts/{scheme}/{slug}, under the site answering the request."""
    found = context.vocabulary.concept_by_iri(iri)
    if found is None:
        return iri
    _, concept = found
    return rooted(f"/concepts/{concept.scheme.rstrip('/').rsplit('/', 1)[-1]}/{concept.slug}")


def network_page_model(context: AppContext, kind: str, method: str, selection: Selection) -> tuple[NetworkPage, Any]:
    """The network page's model and the drawing's graph (with its layout) of ``kind`` over ``selection``."""
    vocabulary = context.vocabulary
    kinds = [k for k in net.network_kinds(vocabulary, context.evidence_map) if k.endswith(net.COOCCURRENCE)]
    bipartite = net.study_concept_graph(context.evidence_map, vocabulary, selection)
    graph = net.cooccurrence_graph(bipartite, vocabulary.facet(kind.removesuffix(net.COOCCURRENCE)))
    filters = selection.as_params()
    paired = pair_facets(context)
    page = NetworkPage(
        kind=kind,
        kinds=[Option(value=k, label=vocabulary.facet(k.removesuffix(net.COOCCURRENCE)).label) for k in kinds],
        layout=method,
        title=str(graph.graph["title"]),
        filters=filters,
        studies=sum(1 for _, d in bipartite.nodes(data=True) if d["kind"] == "study"),
        nodes=[d for _, d in graph.nodes(data=True)],
        edges=sorted(
            ({"a": graph.nodes[a]["label"], "b": graph.nodes[b]["label"], **d} for a, b, d in graph.edges(data=True)),
            key=lambda e: (-float(e["weight"]), str(e["a"]), str(e["b"])),
        ),
        central=net.central_concepts(bipartite, top=10),
        links=NetworkLinks(
            json_=_url(f"/api/network/{kind}", filters),
            graphml=_url(f"/api/network/{kind}", {**filters, "format": "graphml"}),
            gexf=_url(f"/api/network/{kind}", {**filters, "format": "gexf"}),
            bipartite_graphml=_url(f"/api/network/{net.STUDY_CONCEPT}", {**filters, "format": "graphml"}),
            similarity_json=_url(f"/api/network/{net.STUDY_SIMILARITY}", filters),
        ),
        pair_title=str(net.pair_graph(bipartite, *paired).graph["title"]) if paired else "",
        pair_facets=[Option(value=f.name, label=f.label) for f in paired] if paired else [],
        pairs=_pairs(context, bipartite, paired, selection) if paired else [],
    )
    return page, graph


@router.get("/network", include_in_schema=False)
def network_page(request: Request, context: Context) -> Response:
    vocabulary = context.vocabulary
    selection = inputs.selection(vocabulary, request.query_params.multi_items(), NETWORK_PAGE_PARAMS,
                                 context.evidence_map)
    kinds = [k for k in net.network_kinds(vocabulary, context.evidence_map) if k.endswith(net.COOCCURRENCE)]
    alternative = gapmap.default_facets(context.vocabulary, gapmap.ALTERNATIVE_COLUMNS)
    default = next((k for k in (n + net.COOCCURRENCE for n in alternative) if k in kinds), kinds[0])
    kind = inputs.choice(inputs.one(request, "kind"), kinds, "kind", default)
    method = inputs.choice(inputs.one(request, "layout"), ["circular", "spring"], "layout", "circular")
    page, graph = network_page_model(context, kind, method, selection)
    json_url = _url("/network", {**page.filters, "kind": kind, "layout": method, "format": "json"})
    drawing = network_drawing(graph, net.layout(graph, method), page.title)
    paired = pair_facets(context)
    pairs_svg = None
    if paired:
        pairs = net.pair_graph(net.study_concept_graph(context.evidence_map, vocabulary, selection), *paired)
        pairs_svg = Markup(fragment(network_drawing(pairs, net.layout(pairs, "columns"), page.pair_title)))
    return render_page(request, "network.html", page, json_url=json_url, svg=Markup(fragment(drawing)),
                       pairs_svg=pairs_svg)
