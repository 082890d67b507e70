"""HTTP for the pictures of the map: the evidence gap map, the PRISMA-ScR flow diagram and the network views.

The computing is in :mod:`evidencemap.views.gapmap`, :mod:`evidencemap.render.prisma` and
:mod:`evidencemap.views.network`; the drawing in :mod:`evidencemap.render.svg`. Both pages work without JavaScript:
each gap-map cell is a link to the page showing that cell's studies, and the same matrix is given as a table for
screen readers and keyboards.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from markupsafe import Markup

from evidencemap.errors import InvalidParameter
from evidencemap.model.facets import Selection
from evidencemap.model.vocabulary import Facet, Vocabulary
from evidencemap.publish.linkeddata import path_for_iri
from evidencemap.render.prisma import prisma_svg
from evidencemap.render.svg import bubble_map, fragment, network_drawing, serialise
from evidencemap.views import network as net
from evidencemap.views.gapmap import ALTERNATIVE_COLS, DEFAULT_BREAKDOWN, DEFAULT_ROWS, Cell, GapMap, build_gap_map
from evidencemap.web.context import AppContext, get_context
from evidencemap.web.templating import mount_static, templates

router = APIRouter()
Context = Annotated[AppContext, Depends(get_context)]

GAPMAP_PARAMS = ("rows", "cols", "colour", "format", "cell", "breakdown")
NETWORK_PARAMS = ("format", "layout")
SVG = "image/svg+xml"
EXPORTS = {"graphml": ("application/graphml+xml", net.graphml_bytes), "gexf": ("application/gexf+xml", net.gexf_bytes)}


def install(app: FastAPI) -> None:
    """Register the routes (and serve ``static/`` if no other part of the app does yet)."""
    app.include_router(router)
    mount_static(app)


# -- parameters ------------------------------------------------------------------------------------------------


def _one(request: Request, name: str) -> str | None:
    values = [v for v in request.query_params.getlist(name) if v.strip()]
    return ",".join(values) if values else None


def _selection(request: Request, vocabulary: Vocabulary, reserved: tuple[str, ...]) -> Selection:
    """The facet filters among the query parameters (every parameter that is not one of ``reserved``)."""
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        if key not in reserved:
            params.setdefault(key, []).append(value)
    unknown = [k for k in params if not any(f.name == k for f in vocabulary.facets)]
    if unknown:
        valid = ", ".join([*reserved, *(f.name for f in vocabulary.facets)])
        raise InvalidParameter(f"Unknown parameter {unknown[0]!r}.", hint=f"Use one of: {valid}.")
    return Selection.parse(vocabulary, params)


def _choice(value: str | None, allowed: list[str], name: str, default: str) -> str:
    chosen = (value or default).strip()
    if chosen not in allowed:
        raise InvalidParameter(f"Unknown {name} {chosen!r}.", hint=f"Use one of: {', '.join(allowed)}.")
    return chosen


def _colour_facet(vocabulary: Vocabulary, value: str | None) -> Facet | None:
    names = [f.name for f in vocabulary.concept_facets]
    default = next((n for n in DEFAULT_BREAKDOWN if n in names), "none")
    chosen = _choice(value, [*names, "none"], "colour", default)
    return None if chosen == "none" else vocabulary.facet(chosen)


def _gap_map(request: Request, context: AppContext) -> tuple[GapMap, Facet | None, Cell | None]:
    vocabulary = context.vocabulary
    colour = _colour_facet(vocabulary, _one(request, "colour"))
    breakdown = [f.name for f in vocabulary.concept_facets if f.name in (_one(request, "breakdown") or "").split(",")]
    breakdown = breakdown or [n for n in DEFAULT_BREAKDOWN if any(f.name == n for f in vocabulary.facets)]
    if colour is not None and colour.name not in breakdown:
        breakdown.append(colour.name)
    gap_map = build_gap_map(
        context.evidence_map,
        vocabulary,
        rows=_one(request, "rows"),
        cols=_one(request, "cols"),
        selection=_selection(request, vocabulary, GAPMAP_PARAMS),
        breakdown=breakdown,
    )
    cell_key = _one(request, "cell")
    return gap_map, colour, gap_map.parse_cell(cell_key) if cell_key else None


def _gapmap_params(gap_map: GapMap, colour: Facet | None, **extra: str) -> dict[str, Any]:
    params: dict[str, Any] = {"rows": gap_map.rows.names, "cols": gap_map.cols.names,
                              "colour": colour.name if colour else "none"}
    params.update(gap_map.selection.as_params())
    params.update(extra)
    return params


def _url(path: str, params: dict[str, Any]) -> str:
    return f"{path}?{urlencode(params, doseq=True)}" if params else path


def _cell_dict(gap_map: GapMap, cell: Cell, context: AppContext) -> dict[str, Any]:
    data = next(c for c in gap_map.to_dict()["cells"] if c["key"] == cell.key)
    for study in data["studies"]:
        study["url"] = path_for_iri(context.evidence_map, study["iri"]) or study["iri"]
    if cell.row.facet != cell.col.facet:
        params = {**gap_map.selection.as_params()}
        for value in (cell.row, cell.col):
            params[value.facet.name] = sorted({*params.get(value.facet.name, []), value.slug})
        data["studies_url"] = _url("/studies", params)
    return data


# -- gap map ---------------------------------------------------------------------------------------------------


@router.get("/api/gapmap", tags=["visuals"], summary="The evidence gap map of two crossed facets")
def api_gapmap(request: Request, context: Context) -> Response:
    """The matrix of ``rows`` x ``cols`` (facet names, comma-separated; default: modality and component x outcome;
    challenge is the usual alternative column set) over the studies matching the facet filters, as JSON, CSV
    (``format=csv``) or an SVG bubble map (``format=svg``, coloured by ``colour``). ``cell=row:col`` adds that
    cell's studies under ``cell``."""
    fmt = _choice(_one(request, "format"), ["json", "csv", "svg"], "format", "json")
    gap_map, colour, cell = _gap_map(request, context)
    if fmt == "csv":
        return Response(gap_map.to_csv(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="evidencemap-gapmap.csv"'})
    if fmt == "svg":
        return Response(serialise(bubble_map(gap_map, colour, selected=cell.key if cell else None)), media_type=SVG)
    body = gap_map.to_dict()
    params = _gapmap_params(gap_map, colour)
    body["links"] = {
        "csv": _url("/api/gapmap", {**params, "format": "csv"}),
        "svg": _url("/api/gapmap", {**params, "format": "svg"}),
        "page": _url("/gapmap", params),
    }
    if cell is not None:
        body["cell"] = _cell_dict(gap_map, cell, context)
    return JSONResponse(body)


@router.get("/gapmap", tags=["visuals"], summary="The evidence gap map page", include_in_schema=False)
def gapmap_page(request: Request, context: Context) -> Response:
    gap_map, colour, cell = _gap_map(request, context)
    params = _gapmap_params(gap_map, colour)

    def href(c: Cell) -> str:
        return _url("/gapmap", {**params, "cell": c.key}) + "#cell-studies"

    drawing = bubble_map(gap_map, colour, href=href, selected=cell.key if cell else None, inline=True)
    vocabulary = context.vocabulary
    model = {
        "gap_map": gap_map,
        "data": gap_map.to_dict(),
        "svg": Markup(fragment(drawing)),
        "href": href,
        "cell": _cell_dict(gap_map, cell, context) if cell else None,
        "colour": colour.name if colour else "none",
        "colour_choices": [(n, vocabulary.facet(n).label) for n in DEFAULT_BREAKDOWN if _has(vocabulary, n)],
        "facets": vocabulary.facets,
        "axis_choices": _axis_choices(vocabulary),
        "chosen": {c.facet.name: {x.slug for x in c.concepts} | set(c.literals) for c in gap_map.selection.choices},
        "links": {
            "json": _url("/api/gapmap", params),
            "csv": _url("/api/gapmap", {**params, "format": "csv"}),
            "svg": _url("/api/gapmap", {**params, "format": "svg"}),
        },
        "json_url": _url("/api/gapmap", params),
    }
    return templates.TemplateResponse(request, "gapmap.html", model)


def _has(vocabulary: Vocabulary, name: str) -> bool:
    return any(f.name == name for f in vocabulary.facets)


def _axis_choices(vocabulary: Vocabulary) -> list[tuple[str, str]]:
    """Axis options for the form: the default row pair, then every facet alone."""
    choices: list[tuple[str, str]] = []
    if all(_has(vocabulary, n) for n in DEFAULT_ROWS) and len(DEFAULT_ROWS) > 1:
        choices.append((",".join(DEFAULT_ROWS), " and ".join(vocabulary.facet(n).label for n in DEFAULT_ROWS)))
    return choices + [(f.name, f.label) for f in vocabulary.facets]


# -- PRISMA ----------------------------------------------------------------------------------------------------


@router.get("/api/prisma.svg", tags=["visuals"], summary="The PRISMA-ScR flow diagram (SVG)",
            response_class=Response, responses={200: {"content": {SVG: {}}}})
def api_prisma(request: Request, context: Context) -> Response:
    """Drawn from the review's ``evm:FlowStage`` nodes; ``review`` picks a review by slug when the map has several."""
    return Response(prisma_svg(context.evidence_map, _one(request, "review")), media_type=SVG)


@router.get("/review/prisma.svg", include_in_schema=False)
def review_prisma(request: Request, context: Context) -> Response:
    return api_prisma(request, context)


# -- networks --------------------------------------------------------------------------------------------------


@router.get("/api/network", tags=["visuals"], summary="The network views that can be requested")
def api_networks(context: Context) -> dict[str, Any]:
    kinds = net.network_kinds(context.vocabulary)
    return {"count": len(kinds), "kinds": [{"kind": k, "url": f"/api/network/{k}"} for k in kinds]}


@router.get("/api/network/{kind}", tags=["visuals"], summary="A network view as node-link JSON, GraphML or GEXF")
def api_network(kind: str, request: Request, context: Context) -> Response:
    """``study-concept`` (bipartite), ``<facet>-cooccurrence`` (e.g. challenge-cooccurrence; edge weight = studies
    sharing both) or ``study-similarity``; facet filters restrict the studies; ``format=graphml|gexf`` downloads."""
    fmt = _choice(_one(request, "format"), ["json", *EXPORTS], "format", "json")
    graph = net.build_network(context.evidence_map, context.vocabulary, kind,
                              _selection(request, context.vocabulary, NETWORK_PARAMS))
    if fmt in EXPORTS:
        media_type, write = EXPORTS[fmt]
        return Response(write(graph), media_type=media_type,
                        headers={"Content-Disposition": f'attachment; filename="evidencemap-{kind}.{fmt}"'})
    return JSONResponse(net.node_link(graph))


@router.get("/network", include_in_schema=False)
def network_page(request: Request, context: Context) -> Response:
    vocabulary = context.vocabulary
    kinds = [k for k in net.network_kinds(vocabulary) if k.endswith(net.COOCCURRENCE)]
    default = next((k for k in (n + net.COOCCURRENCE for n in ALTERNATIVE_COLS) if k in kinds), kinds[0])
    kind = _choice(_one(request, "kind"), kinds, "kind", default)
    method = _choice(_one(request, "layout"), ["circular", "spring"], "layout", "circular")
    selection = _selection(request, vocabulary, ("kind", "layout"))
    bipartite = net.study_concept_graph(context.evidence_map, vocabulary, selection)
    graph = net.cooccurrence_graph(bipartite, vocabulary.facet(kind.removesuffix(net.COOCCURRENCE)))
    title = str(graph.graph["title"])
    filters = selection.as_params()
    model = {
        "kind": kind,
        "kinds": [(k, vocabulary.facet(k.removesuffix(net.COOCCURRENCE)).label) for k in kinds],
        "layout": method,
        "title": title,
        "svg": Markup(fragment(network_drawing(graph, net.layout(graph, method), title))),
        "edges": sorted(
            ({"a": graph.nodes[a]["label"], "b": graph.nodes[b]["label"], **d} for a, b, d in graph.edges(data=True)),
            key=lambda e: (-e["weight"], e["a"], e["b"]),
        ),
        "nodes": [d for _, d in graph.nodes(data=True)],
        "central": net.central_concepts(bipartite, top=10),
        "studies": sum(1 for _, d in bipartite.nodes(data=True) if d["kind"] == "study"),
        "links": {
            "json": _url(f"/api/network/{kind}", filters),
            "graphml": _url(f"/api/network/{kind}", {**filters, "format": "graphml"}),
            "gexf": _url(f"/api/network/{kind}", {**filters, "format": "gexf"}),
            "bipartite_graphml": _url(f"/api/network/{net.STUDY_CONCEPT}", {**filters, "format": "graphml"}),
            "similarity_json": _url(f"/api/network/{net.STUDY_SIMILARITY}", filters),
        },
        "json_url": _url(f"/api/network/{kind}", filters),
    }
    return templates.TemplateResponse(request, "network.html", model)
